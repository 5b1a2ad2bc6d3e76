package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/outbound"
	"github.com/ghlkit/ghlkit/sandbox/postgres"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
)

// startDeliveries starts the outbound webhook service (package outbound) on
// the store: the dispatcher that turns outbox events into deliveries and
// River's workers that send them. Package outbound picks no database, so
// the River driver is chosen here, next to the store: riversqlite on the
// SQLite store's write connection (jobs commit with the outbox cursor),
// riverpgxv5 on a pool of the Postgres store's URL.
func startDeliveries(ctx context.Context, st sandbox.Store, srv *sandbox.Server, log *slog.Logger, noRSA bool) (stop func(context.Context) error, err error) {
	cfg := outbound.Config{Store: st, Server: srv, Logger: log, NoRSASignature: noRSA}
	switch s := st.(type) {
	case *sqlite.Store:
		// Only this process works a SQLite file's queue, so deliveries a
		// killed process left running can be taken up at once.
		cfg.RescueOnStart = true
		svc, err := outbound.Start(ctx, cfg, riversqlite.New(s.WriteDB()))
		if err != nil {
			return nil, fmt.Errorf("starting webhook deliveries: %w", err)
		}
		return svc.Stop, nil
	case *postgres.Store:
		pool, err := pgxpool.New(ctx, s.URL())
		if err != nil {
			return nil, fmt.Errorf("starting webhook deliveries: %w", err)
		}
		svc, err := outbound.Start(ctx, cfg, riverpgxv5.New(pool))
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("starting webhook deliveries: %w", err)
		}
		return func(ctx context.Context) error {
			err := svc.Stop(ctx)
			pool.Close()
			return err
		}, nil
	}
	return nil, fmt.Errorf("webhook deliveries: no River driver for a %T store", st)
}

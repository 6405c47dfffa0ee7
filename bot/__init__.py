"""kpi's Slack bot: ``/kpi``, one shortcut command per metric, mentions, buttons, digests and alerts.

Layers (each imports only the ones above it, and only the metrics core's public API):

    settings, config, schedule, conditions   configuration: env vars and the ``slack:`` section (pure)
    labels, render_table, render, messages   presentation: MetricResult -> Block Kit (pure, golden-tested)
    access, mention, answer                  logic: who may ask, free words -> grammar, question -> Reply
    provider, budget, store, refs            runtime: reloading definitions, the answer pool and 3-second rule,
                                             alert state, long questions kept for their buttons
    commands, events, actions                Slack surfaces: thin handlers, one module per surface
    alerts, digests, scheduler               scheduled posts (APScheduler)
    app, transport, serve, logs              entry: create_app(), HTTP (WSGI) and Socket Mode, kpi slack serve,
                                             logging without request bodies
    manifest, cli, terminal                  entry: kpi slack manifest, kpi ask
    sync_command                             logic: /kpi sync (who may run it; the service runs it)
    service/                                 entry: kpi serve (Slack + schedules + the JSON API) and
                                             kpi api keys; uses sheets/ through its public API

The metrics core never imports this package; it finds ``bot.cli:register`` and
``bot.config:validate_section`` through entry points.
"""

"""kpi's Slack bot: ``/kpi``, one shortcut command per metric, mentions, buttons, digests and alerts.

Layers (each imports only the ones above it, and only the metrics core's public API):

    settings, config, schedule, conditions   configuration: env vars and the ``slack:`` section (pure)
    labels, render_table, render, messages   presentation: MetricResult -> Block Kit (pure, golden-tested)
    access, mention, answer                  logic: who may ask, free words -> grammar, question -> Reply
    provider, budget, store                  runtime: reloading definitions, the 3-second rule, alert state
    commands, events, actions                Slack surfaces: thin handlers, one module per surface
    alerts, digests, scheduler               scheduled posts (APScheduler)
    app, serve, manifest, cli, terminal      entry: create_app(), kpi slack serve|manifest, kpi ask

The metrics core never imports this package; it finds ``bot.cli:register`` and
``bot.config:validate_section`` through entry points.
"""

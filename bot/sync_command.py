"""``/kpi sync [tab]``: a Sheets sync now, for whoever ``slack.sync`` allows (layer: bot logic).

    slack:
      sync: {channels: ["#revops"], users: [U0ADMIN]}     # unset: the admin channel only

The sync itself is the service's SyncRunner (one at a time, the whole workbook in one atomic write);
without ``kpi serve`` there is none, and the command says how to get one.
"""

from __future__ import annotations

from typing import Any

from metrics_core.i18n import gettext as _

from .access import Asker, _norm
from .answer import guarded
from .labels import esc
from .messages import Reply, error_reply


def sync_allowed(snap: Any, asker: Asker) -> bool:
    rule, admin = snap.config.sync, snap.config.admin_channel
    if asker.trusted:
        return True
    here = {_norm(asker.channel_id), _norm(asker.channel_name)} - {""}
    if rule is None:
        return bool(admin) and _norm(admin) in here
    return any(_norm(c) in here for c in rule.channels) or bool(asker.user_id and asker.user_id in rule.users)


def answer_sync(snap: Any, tab: str, asker: Asker, syncs: Any) -> Reply:
    if syncs is None:
        return error_reply(_("`/kpi sync` needs the kpi service: run `kpi serve` instead of `kpi slack serve`"),
                           usage=False)
    if not sync_allowed(snap, asker):
        where = _("the channels and users listed under slack.sync") if snap.config.sync else \
            (snap.config.admin_channel or _("nobody yet: set slack.sync"))
        return error_reply(_("Sorry, you may not run a Sheets sync here (allowed: {where}).").format(where=where),
                           usage=False)

    def run() -> Reply:
        outcome = syncs.run(tab.strip() or None, trigger="slack")
        if not outcome.ok:
            return error_reply(outcome.text(), usage=False)
        return Reply(text=outcome.text(), blocks=[{"type": "section", "text": {
            "type": "mrkdwn", "text": f":white_check_mark: {esc(outcome.text())}"}}])
    return guarded(run)

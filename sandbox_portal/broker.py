"""The broker that needs no server: kombu's filesystem transport, with messages written
atomically.

kombu's own transport creates a message file under its final name and then writes into
it, while a consumer takes any file with that name at once. A consumer polling at the
wrong moment reads an empty or half-written file, fails to decode it and stops the worker
("Unrecoverable error: JSONDecodeError", kombu issue #1551); with beat sending a probe
every few seconds, a worker of ``make run`` met it within minutes. Here a message is
written under a name no consumer takes (``….msg.part``) and renamed to its final name
once complete: a rename within one folder is atomic, so a consumer sees whole messages
or none. Importing this module registers it as the ``portalfs://`` broker URL (the Celery
app imports it), so a ``redis://`` URL still selects Redis.
"""

import contextlib
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` onto ``queue``: written aside, then renamed into place."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES.setdefault("portalfs", f"{__name__}:Transport")

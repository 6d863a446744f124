"""Point-to-point messages (``send``/``recv``) between processes that met without MPI.

Collectives go through process 0 (``tcp_communicator``), but a message from one process to another
cannot wait for process 0 to pass it on. So each process keeps a mailbox: it listens on a port of
its own, which every process learns when the group starts, and a thread of it reads each message
that arrives, ``(source, tag, array)``, into a list. ``recv`` takes the first message from its
source (or from any, ``src=None``) with its tag, waiting until one arrives: messages from one
process with one tag are received in the order they were sent, as in MPI and gloo. A sender
connects to a mailbox the first time it sends there and keeps the connection; a message to oneself
(``isend``/``irecv`` with one's own rank) goes into one's own list. A tag is any value compared
with ``==``: the groups of ``new_group`` tag their messages with their names, apart from the world's.
"""
import socket
import threading

from chainrule.backend import xp
from chainrule.distributed.messages import receive_message, send_message


class Mailbox:
    """The messages that reached process ``rank``; with ``listen``, a port where other processes send them."""

    def __init__(self, rank, listen=True):
        self.rank = rank
        self._messages = []  # (source, tag, array) in the order they arrived
        self._arrived = threading.Condition()
        self._connections = {}  # destination rank -> the socket this process sends there on
        self._sending = threading.Lock()
        self.port = None
        if listen:
            listener = socket.create_server(("", 0))
            self.port = listener.getsockname()[1]
            threading.Thread(target=self._accept, args=(listener,), name="chainrule-mailbox", daemon=True).start()

    def post(self, destination, address, tag, array):
        """Send ``array`` with ``tag`` to process ``destination``'s mailbox at ``address`` ((host, port))."""
        if destination == self.rank:
            self._deliver(self.rank, tag, array.copy())
            return
        with self._sending:
            connection = self._connections.get(destination)
            if connection is None:
                connection = self._connections[destination] = socket.create_connection(address)
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            send_message(connection, (self.rank, tag, array))

    def receive(self, buffer, source, tag):
        """The request of a receive into ``buffer`` from ``source`` (None: any process) with ``tag``."""
        return Receive(self, buffer, source, tag)

    def take(self, source, tag):
        """The value of the next message from ``source`` with ``tag`` (any picklable value, not only
        an array), waiting until one arrives."""
        return self._take(source, tag, block=True)[2]

    def _take(self, source, tag, block):
        """Remove and return the first message from ``source`` (None: any) with ``tag``; None if none
        has arrived and not ``block``."""
        def first():
            return next((index for index, (sender, their_tag, _) in enumerate(self._messages)
                         if their_tag == tag and source in (None, sender)), None)

        with self._arrived:
            if block:
                self._arrived.wait_for(lambda: first() is not None)
            index = first()
            return None if index is None else self._messages.pop(index)

    def _deliver(self, source, tag, array):
        with self._arrived:
            self._messages.append((source, tag, array))
            self._arrived.notify_all()

    def _accept(self, listener):
        while True:
            connection, _ = listener.accept()
            threading.Thread(target=self._read, args=(connection,), name="chainrule-mailbox-reader", daemon=True).start()

    def _read(self, connection):
        try:
            while True:
                self._deliver(*receive_message(connection))
        except ConnectionError:  # the sender ended: its messages have all arrived
            connection.close()


class Receive:
    """A receive in flight: ``Wait`` blocks until the message is in the buffer; ``source`` is its sender."""

    def __init__(self, mailbox, buffer, source, tag):
        self._mailbox, self._buffer, self._wanted, self._tag = mailbox, buffer, source, tag
        self.source = None

    def Wait(self):
        if self.source is None:
            self._fill(self._mailbox._take(self._wanted, self._tag, block=True))

    def Test(self):
        if self.source is None:
            message = self._mailbox._take(self._wanted, self._tag, block=False)
            if message is not None:
                self._fill(message)
        return self.source is not None

    def _fill(self, message):
        sender, _, array = message
        if array.size != self._buffer.size:
            raise RuntimeError(
                f"recv: process {sender} sent {array.size} elements (shape {tuple(array.shape)}), but the "
                f"tensor received into holds {self._buffer.size} (shape {tuple(self._buffer.shape)}); give "
                f"recv a tensor of the size sent"
            )
        self._buffer[...] = xp.reshape(array, self._buffer.shape)
        self.source = sender

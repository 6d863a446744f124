"""How chainrule's TCP transport writes a Python value on a socket and reads it back: the length
of its pickle (8 bytes, network order), then the pickle. Process 0's collectives
(``tcp_communicator``) and the mailboxes of ``send``/``recv`` (``mailbox``) both speak it."""
import pickle
import struct

LENGTH = struct.Struct("!Q")  # the size of the pickled message that follows


def send_message(connection, value):
    """Write ``value`` on ``connection``: the length of its pickle, then the pickle."""
    message = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    connection.sendall(LENGTH.pack(len(message)) + message)


def receive_message(connection):
    """The next value written on ``connection`` by ``send_message``; ConnectionError if the other end closed."""
    (length,) = LENGTH.unpack(_receive_exactly(connection, LENGTH.size))
    return pickle.loads(_receive_exactly(connection, length))


def _receive_exactly(connection, count):
    buffer = bytearray(count)
    view, received = memoryview(buffer), 0
    while received < count:
        chunk = connection.recv_into(view[received:], count - received)
        if chunk == 0:
            raise ConnectionError(
                "chainrule.distributed: a process of the group closed its connection (it ended or failed); "
                "see its own error above"
            )
        received += chunk
    return buffer

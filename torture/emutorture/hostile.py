"""A hostile client: seeded sessions spoken straight to `emu serve` on pipes
(no ssh, no friendly client to tidy what is sent). Each starts from a real
push's entries (the newest snapshot's records, read through the protocol,
and a new file) and mutates them by meaning (order, counts, dates, paths,
hashes, lengths, requests out of place, other keys' paths) or by bytes.

After every session: the server ended by itself (no hang, no signal), every
snapshot of the attacked sink is what it was (one new snapshot may appear,
and must verify), the other client's sink and everything outside the key's
area are unchanged, and the next real push succeeds."""
import hashlib
import os
import struct
import subprocess

from .lib import Failure, Workspace, check_sink, fingerprint, make_tree, seeded, sink_fingerprints

HELLO, REQUEST, REPLY, DATA, END, ERROR = range(1, 7)


def frame(kind, payload):
    payload = payload if isinstance(payload, bytes) else payload.encode()
    return struct.pack(">I", len(payload) + 1) + bytes([kind]) + payload


def frames_of(output):
    """The frames the server sent, as (kind, payload), up to a cut one."""
    result, at = [], 0
    while at + 5 <= len(output):
        length = struct.unpack(">I", output[at:at + 4])[0]
        result.append((output[at + 4], output[at + 5:at + 4 + length]))
        at += 4 + length
    return result


class Served:
    """A root with two clients' sinks: `a` (attacked, through --client a) and `b` (which a key of a must never reach)."""

    def __init__(self, emu, scratch, rng):
        self.emu = emu
        self.root = os.path.join(scratch, "root")
        self.outside = os.path.join(scratch, "outside")
        os.makedirs(self.outside)
        with open(os.path.join(self.outside, "sentinel"), "w") as f:
            f.write("not the server's to touch\n")
        self.a = Workspace(emu, parent=scratch, sink=os.path.join(self.root, "a")).initialize()
        self.b = Workspace(emu, parent=scratch, sink=os.path.join(self.root, "b")).initialize()
        for ws, count in ((self.a, 60), (self.b, 20)):
            make_tree(ws.source, rng, files=count, max_size=64 * 1024)
            ws.ok(["push"])
            ws.ok(["push"])
        with open(os.path.join(self.a.source, ".emu", "identity")) as f:
            self.identity = f.read().strip()

    def serve(self, payload, arguments, timeout=60):
        """One session; the server's frames and exit status. A server still running after `timeout` hangs."""
        process = subprocess.Popen([self.emu.binary, "serve"] + arguments, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, cwd=self.root)
        try:
            out, _ = process.communicate(payload, timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise Failure(f"emu serve {' '.join(arguments)} did not end within {timeout}s of the client hanging up")
        return frames_of(out), process.returncode

    def head_records(self):
        """HEAD's ID, its manifest's lines and their digest, as a client reads them."""
        head = open(os.path.join(self.a.sink, ".emu", "HEAD")).read().strip()
        answer, _ = self.serve(frame(HELLO, f"emu-serve 4\nemu torture\nsink {self.a.sink}\n") + frame(REQUEST, f"records {head}"),
                               ["--sink", self.a.sink])
        text = b"".join(payload for kind, payload in answer if kind == DATA)
        return head, text.split(b"\n"), hashlib.sha256(text).hexdigest()


def push_entries(lines, rng):
    """The entries a client sends to push HEAD again unchanged, plus one new file with its bytes."""
    entries = []
    records = [fields for fields in (line.split(b"\t") for line in lines) if len(fields) == 12]
    leaders = {fields[10] for fields in records if fields[0] == b"f" and fields[10] != b"-"}
    for fields in records:
        tag = {b"d": b"dir", b"f": b"link", b"l": b"symlink", b"p": b"special"}.get(fields[0])
        if tag == b"link" and fields[10] != b"-":
            tag = b"hardlink"
        if tag:
            lead = b"\nleader" if tag == b"link" and fields[11] in leaders else b""
            entries.append([frame(DATA, tag + b"\n" + b"\t".join(fields) + lead)])
    data = os.urandom(rng.randrange(0, 70000))
    record = b"\t".join([b"f", b"644", b"0", b"0", str(len(data)).encode(), b"1795779444.500000000", b"1795779444.500000000",
                         b"99", b"-", b"-", b"-", b"zz-new-file"])
    entries.append([frame(DATA, b"file\n" + record)] + [frame(DATA, data[i:i + 65536]) for i in range(0, len(data), 65536)]
                   + [frame(END, b"")])
    return entries


def field_mutation(entries, rng):
    """A record field replaced by something out of range or malformed."""
    candidates = [i for i, e in enumerate(entries) if e[0][5:].split(b"\n")[0] in (b"dir", b"link", b"file", b"symlink", b"hardlink")]
    i = rng.choice(candidates)
    tag, line = entries[i][0][5:].split(b"\n", 1)
    fields = line.split(b"\n")[0].split(b"\t")
    which = rng.randrange(12)
    fields[which] = rng.choice([b"", b"-1", b"99999999999999999999", b"1.-00000001", b"99999999999999999.999999999", b"x" * 300,
                                b"../../outside/sentinel", b"/etc/passwd", b"a/../../b", b"a//b", b"\x00", b"7" * 64, b"-5.000000000",
                                b"4294967296", b"777777", b"c", b"b", b"s"])
    entries[i][0] = frame(DATA, tag + b"\n" + b"\t".join(fields))


def structure_mutation(entries, rng):
    """Entries reordered, repeated, dropped, or replaced by ones no client sends."""
    kind = rng.randrange(9)
    if kind == 0 and len(entries) > 2:
        i, j = rng.sample(range(len(entries)), 2)
        entries[i], entries[j] = entries[j], entries[i]
    elif kind == 1:
        i = rng.randrange(len(entries))
        entries.insert(i, list(entries[i]))
    elif kind == 2:
        del entries[rng.randrange(len(entries))]
    elif kind == 3:
        entries.insert(rng.randrange(len(entries) + 1),
                       [frame(DATA, f"links\n{rng.choice([-1, 0, 1, 2**31, 10**12])} {rng.choice([0, 1, 2**31, 10**12, -3])}")])
    elif kind == 4:
        entries.insert(rng.randrange(len(entries) + 1), [frame(rng.choice([END, DATA, HELLO, ERROR, 77]), os.urandom(rng.randrange(40)))])
    elif kind == 5:
        entries.insert(rng.randrange(len(entries) + 1), [frame(REQUEST, rng.choice(["delete " + "0" * 40, "clean repair", "recover",
                                                                                    "adopt " + "a" * 32, "push-end", "lock exclusive 0"]))])
    elif kind == 6:
        entries.insert(rng.randrange(len(entries) + 1), [frame(DATA, b"query\n" + os.urandom(rng.randrange(200)))])
    elif kind == 7:
        entries.insert(rng.randrange(len(entries) + 1), [frame(DATA, b"resume\n" + entries[rng.randrange(len(entries))][0][5:].split(b"\n", 1)[-1])])
    else:
        entries.insert(rng.randrange(len(entries) + 1), [frame(DATA, b"dir\nd\t755\t0\t0\t0\t1795779444.500000000\t1795779444.500000000\t5\t-\t-\t-\t"
                                                               + b"x/" * 2000 + b"deep\nxattr " + b"41" * rng.randrange(300) + b" 42")])


def session(served, lines, head, digest, rng):
    """A mutated push session's bytes, and the key's arguments."""
    entries = push_entries(lines, rng)
    for _ in range(rng.randrange(1, 4)):
        (field_mutation if rng.random() < 0.4 else structure_mutation)(entries, rng)
    begin = f"push-begin now 6d 2f {head} {digest} {served.identity}"
    if rng.random() < 0.15:
        words = begin.split(" ")
        words[rng.randrange(1, len(words))] = rng.choice(["-", "abc", "-5.0", "99999999999999.0", "0" * 40, "../b", ""])
        begin = " ".join(words)
    sink = served.a.sink if rng.random() < 0.85 else rng.choice([served.b.sink, served.outside, served.a.sink + "/.emu/trees",
                                                                 served.root + "/.emu-shared/index", served.a.sink + "/../b"])
    payload = (frame(HELLO, f"emu-serve 4\nemu torture\nsink {sink}\n" + ("create\n" if rng.random() < 0.2 else ""))
               + frame(REQUEST, "lock exclusive 0") + frame(REQUEST, begin) + b"".join(b"".join(e) for e in entries)
               + frame(REQUEST, "push-end"))
    if rng.random() < 0.2:  # bytes: flipped, or the stream cut short
        payload = bytearray(payload)
        for _ in range(rng.randrange(1, 6)):
            payload[rng.randrange(len(payload))] = rng.randrange(256)
        payload = bytes(payload[:rng.randrange(len(payload) // 2, len(payload) + 1)])
    mode = rng.choice([["--append-only"], [], ["--read-only"]])
    return payload, ["--root", served.root, "--client", "a"] + mode


def run(emu, trials, seed, scratch, log):
    rng = seeded(seed, "hostile")
    served = Served(emu, scratch, rng)
    other = fingerprint(served.b.sink, ignore=())
    outside = fingerprint(served.outside, ignore=())
    published = refused = 0
    for trial in range(trials):
        head, lines, digest = served.head_records()
        before = sink_fingerprints(served.a.sink)
        payload, arguments = session(served, lines, head, digest, rng)
        answers, status = served.serve(payload, arguments)
        where = f"trial {trial} (seed {seed}, emu serve {' '.join(arguments)})"
        if status < 0:
            raise Failure(f"{where}: the server died of signal {-status}")
        snapshots = check_sink(emu, served.a.source, served.a.sink, before, max_new=1)
        if len(snapshots) > len(before):
            published += 1
        if any(kind == ERROR for kind, _ in answers):
            refused += 1
        if fingerprint(served.b.sink, ignore=()) != other or fingerprint(served.outside, ignore=()) != outside:
            raise Failure(f"{where}: the session changed what its key may not reach")
        leftover = subprocess.run(["pgrep", "-f", f"serve --root {served.root} "], capture_output=True)
        if leftover.returncode == 0:
            raise Failure(f"{where}: a server is still running: {leftover.stdout.decode()}")
        with open(os.path.join(served.a.source, f"after-{trial}"), "w") as f:
            f.write(f"{trial}\n")
        served.a.ok(["push"])
    log(f"hostile-client: {trials} mutated sessions ({refused} answered with an error, {published} published a snapshot that "
        "verifies), no hang, no signal, no snapshot changed, the other client's sink and the outside untouched, every next push whole")

import EmuPOSIX
import Foundation
import Glibc
import Testing

/// A push's entries, sent by a hostile client straight to `emu serve`: each
/// malformed or out-of-range entry is answered with an error frame, the
/// server ends cleanly when the client hangs up (no spin, no trap), the sink
/// keeps what it had, and the next real push succeeds.
@Suite("a hostile client's push entries")
struct ServePushAttackTests {
    /// An entry's record: a directory (or file) line as a manifest holds it.
    static func directory(_ path: String, inode: Int, mtime: String = "1795779444.500000000") -> String {
        "dir\nd\t755\t0\t0\t0\t\(mtime)\t\(mtime)\t\(inode)\t-\t-\t-\t\(path)"
    }

    static let attacks: [(String, [String])] = [
        ("a run of unchanged files past the end of the records", ["links\n1000000000 1"]),
        ("entries out of path order", [directory("", inode: 1), directory("zz", inode: 2), directory("aa", inode: 3)]),
        ("the same path twice", [directory("", inode: 1), directory("d", inode: 2), directory("d", inode: 3)]),
        ("a child before the root", [directory("d", inode: 2)]),
        ("nanoseconds past a second", [directory("", inode: 1), directory("d", inode: 2, mtime: "1795779444.-00000001")]),
        ("a run of unchanged files before an entry sent", [directory("", inode: 1), directory("zz", inode: 2), "links\n1 1"]),
        ("the root as no directory", ["special" + directory("", inode: 1).dropFirst(3)]),
        ("an entry whose directory was never sent", [directory("", inode: 1), directory("a/b", inode: 2)]),
        ("another name of a file never sent", [directory("", inode: 1),
                                               "hardlink\nf\t644\t0\t0\t3\t1795779444.500000000\t1795779444.500000000\t9\t-\t-\ta\tb"]),
        ("another name that names no first name", [directory("", inode: 1),
                                                   "hardlink\nf\t644\t0\t0\t3\t1795779444.500000000\t1795779444.500000000\t9\t-\t-\t-\tb"]),
        ("a device entry whose record is a file", [directory("", inode: 1),
                                                   "special\nf\t644\t0\t0\t0\t1795779444.500000000\t1795779444.500000000\t9\t-\t-\t-\tb"]),
        // The server makes a `copy` from an inode of the index (a reflink where it can): none holds this content.
        ("a copy of content the sink does not hold", [directory("", inode: 1), "copy\nf\t644\t0\t0\t70000\t1795779444.500000000\t"
                                                      + "1795779444.500000000\t9\t" + String(repeating: "7", count: 64) + "\t-\t-\tb"]),
    ]

    /// The sink's HEAD and its manifest's text lines, whose digest `push-begin` names.
    static func headManifest(_ w: Workspace) throws -> (head: String, lines: [String], digest: String) {
        let head = try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .newlines)
        let text = w.root + "/manifest", digest = w.root + "/digest"
        #expect(sh(manifestShell + "manifest_text '\(w.sink)/.emu/manifests/\(head)' > '\(text)'; sha256sum < '\(text)' | cut -c1-64 > '\(digest)'") == 0)
        return (head, try String(contentsOfFile: text, encoding: .utf8).split(separator: "\n").map(String.init),
                try String(contentsOfFile: digest, encoding: .utf8).trimmingCharacters(in: .newlines))
    }

    /// The workspace source's identity, which owns its sink.
    static func identity(_ w: Workspace) throws -> String {
        try String(contentsOfFile: w.source + "/.emu/identity", encoding: .utf8).trimmingCharacters(in: .newlines)
    }

    /// A workspace whose sink holds one snapshot of one file.
    static func pushedOnce() throws -> Workspace {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        return w
    }

    /// A session of a key of `mode` on `w`'s sink that said hello and holds the exclusive lock.
    static func lockedSession(_ w: Workspace, _ mode: [String] = ["--append-only"], environment: [String: String] = [:]) throws -> ServeSession {
        let session = try ServeSession(["--sink", w.sink] + mode, in: w.root, environment: environment)
        #expect(session.hello(sink: w.sink)?.kind == .hello)
        #expect(session.request("lock exclusive 0")?.kind == .reply)
        return session
    }

    /// A session that holds the lock and has begun a push on top of HEAD.
    static func beginPush(_ w: Workspace, _ mode: [String] = ["--append-only"], environment: [String: String] = [:]) throws
        -> (ServeSession, manifest: [String]) {
        let (head, lines, digest) = try headManifest(w)
        let session = try lockedSession(w, mode, environment: environment)
        let begun = session.request("push-begin now 6d 2f \(head) \(digest) \(try identity(w))")
        #expect(begun?.kind == .reply && begun?.text.isEmpty == true, "\(String(describing: begun))")
        return (session, lines)
    }

    @Test("each is an error frame; the server ends when the client hangs up; the sink is as it was", arguments: attacks.map(\.0))
    func attack(_ name: String) throws {
        let entries = try #require(Self.attacks.first { $0.0 == name }?.1)
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one"), "d": .directory(["b": .file("two")])], at: w.source)
        try w.expectSuccess(w.emu("push"))
        let before = DirectoryState(of: w.sink)
        let (session, _) = try Self.beginPush(w)
        for entry in entries { session.send(.data, entry) }
        let answer = session.request("push-end")
        #expect(answer?.kind == .error && answer?.text.contains("damaged record") == false, "\(name): \(String(describing: answer))")
        let status = session.close(within: 60)
        #expect(status == 0, "\(name): the server ended with \(String(describing: status)) (nil: it did not end, holding the lock)")
        // What a cut push leaves (staging) is the next command's to recover; nothing else changed.
        let changed = DirectoryState(of: w.sink).changes(since: before) { $0.contains("/.emu/staging") || $0.hasPrefix("./.emu ") }
        #expect(changed.isEmpty, "\(name) changed the sink: \(changed)")
        sh("echo three > '\(w.source)/c'")
        try w.expectSuccess(w.emu("push"))
        try w.expectSuccess(w.emu("verify"))
        #expect(try w.loggedSnapshots().count == 2)
    }

    /// A client links its own file under the hash of content it wants to
    /// catch (as long): were that hash recorded, the content index would
    /// hand the client's inode to any push of that content, on any client's
    /// sink of the root.
    @Test("a linked file's record is the sink's own, whatever hash the client names")
    func forgedLinkHash() throws {
        let w = try Self.pushedOnce()
        let (session, lines) = try Self.beginPush(w)
        let root = try #require(lines.first { $0.hasSuffix("\t") && $0.hasPrefix("d\t") })
        var file = try #require(lines.first { $0.hasSuffix("\ta") }).split(separator: "\t", omittingEmptySubsequences: false)
        let real = String(file[8]), forged = String(repeating: "7", count: 64)
        file[8] = Substring(forged)
        session.send(.data, "dir\n" + root)
        session.send(.data, "link\n" + file.joined(separator: "\t"))
        let answer = session.request("push-end")
        #expect(answer?.kind == .reply, "\(String(describing: answer))")
        #expect(session.close(within: 60) == 0)
        let published = try Self.headManifest(w).lines.joined(separator: "\n")
        #expect(published.contains(real) && !published.contains(forged), "the client's hash was recorded: \(published)")
        try w.expectSuccess(w.emu("verify"))
    }

    /// `push-end unless-unchanged` leaves the decision to the server: the
    /// records it received against HEAD's, byte for byte.
    @Test("push-end unless-unchanged: HEAD's own entries make no snapshot and leave the sink as it was; other entries publish")
    func unlessUnchanged() throws {
        let w = try Self.pushedOnce()
        let before = SkipIfUnchangedTests.sinkEntries(w)
        let (session, lines) = try Self.beginPush(w)
        let root = try #require(lines.first { $0.hasSuffix("\t") && $0.hasPrefix("d\t") })
        session.send(.data, "dir\n" + root)
        session.send(.data, "link\n" + (try #require(lines.first { $0.hasSuffix("\ta") })))
        let head = try Self.headManifest(w).head
        let answer = session.request("push-end unless-unchanged")
        #expect(answer?.kind == .reply && answer?.text == "unchanged \(head)", "\(String(describing: answer))")
        #expect(session.close(within: 60) == 0)
        #expect(SkipIfUnchangedTests.sinkEntries(w) == before, "no tree, record or manifest added; no staging left")

        let (other, _) = try Self.beginPush(w)
        other.send(.data, "dir\n" + root)
        let published = other.request("push-end unless-unchanged")
        #expect(published?.kind == .reply && published?.text.hasPrefix("unchanged") == false, "\(String(describing: published))")
        #expect(other.close(within: 60) == 0)
        #expect(try w.loggedSnapshots().count == 2, "the file's absence is a change")
    }

    /// A manifest that names other bytes than its file holds (written by an
    /// older server, or by hand) must not reach the index through a repair.
    @Test("clean --repair indexes a file only under the hash of its bytes")
    func repairHashesBeforeIndexing() throws {
        let w = try Self.pushedOnce()
        let head = try Self.headManifest(w).head
        let forged = String(repeating: "7", count: 64)
        sh(manifestShell + """
            cd '\(w.sink)/.emu' && unchunk manifests/\(head) && chmod u+w manifests/\(head) \
              && sed -i 's/\\t[0-9a-f]\\{64\\}\\t\\(-\\t-\\ta\\)$/\\t\(forged)\\t\\1/' manifests/\(head) \
              && grep -q \(forged) manifests/\(head) && rm -r index/*
            """)
        _ = try w.emu("clean", "--repair")
        let index = try FileManager.default.subpathsOfDirectory(atPath: w.sink + "/.emu/index")
        #expect(!index.contains { $0.contains(forged) }, "the index took the manifest's word: \(index)")
    }
}

/// What one session may cost the server: bounded memory, and a lock that a
/// silent client does not hold for the life of its connection.
@Suite("what a session may hold")
struct ServeSessionBoundsTests {
    @Test("a client that calls every entry a first name of several is refused at the budget, not kept without bound")
    func leadersAreBounded() throws {
        let w = try ServePushAttackTests.pushedOnce()
        let (session, _) = try ServePushAttackTests.beginPush(w, [], environment: ["EMU_LEADER_BUDGET": "100000"])
        session.send(.data, ServePushAttackTests.directory("", inode: 1))
        for n in 0..<1000 { session.send(.data, ServePushAttackTests.directory(String(format: "d%04d", n), inode: n + 2) + "\nleader") }
        let answer = session.request("push-end")
        #expect(answer?.kind == .error && answer?.text.contains("several names") == true, "\(String(describing: answer))")
        #expect(session.close(within: 60) == 0)
        try w.expectSuccess(w.emu("push"))
    }

    @Test("a session whose client goes silent ends at --idle-timeout and releases the lock")
    func silentSessionEnds() throws {
        let w = try ServePushAttackTests.pushedOnce()
        let session = try ServePushAttackTests.lockedSession(w, ["--idle-timeout", "2"])
        let status = session.end(within: 60)
        #expect(status != nil && status != 0, "the silent session did not end: \(String(describing: status))")
        sh("echo two > '\(w.source)/b'")
        try w.expectSuccess(w.emu("push", "--lock-wait", "0"))
    }

    @Test("requests no emu sends are refused each with its reason, and the session stays usable", arguments: [
        ("head now", "other words"), ("records", "other words"), ("verify", "a snapshot, or sink"),
        ("free-space lots 0 1 - -", "a percentage"), ("push-begin soon 6d 2f - - b", "SECONDS.NANOSECONDS"),
        ("push-begin now", "a date, a message"), ("push-end", "without push-begin"), ("push-end unless-unchanged", "without push-begin"),
        ("push-end whenever", "other words"), ("restore x 2f everything", "no snapshot"),
        ("file 0000 2e2e2f6574632f706173737764", "no snapshot"), ("", "an empty request"), ("export 0000 -", "no snapshot"),
        ("export", "other words"),
    ])
    func malformedRequests(line: String, reason: String) throws {
        let w = try ServePushAttackTests.pushedOnce()
        let session = try ServePushAttackTests.lockedSession(w, ["--idle-timeout", "60"])
        let answer = session.request(line)
        #expect(answer?.kind == .error && answer?.text.contains(reason) == true, "\(line): \(String(describing: answer))")
        #expect(session.request("head")?.kind == .reply, "the session answers the next request")
        #expect(session.close(within: 60) == 0)
    }

    @Test("push-begin on no snapshot, another one, or HEAD with records not its own is answered `records differ`: nothing begins, the session goes on")
    func beginOnAnotherHead() throws {
        let w = try ServePushAttackTests.pushedOnce()
        let (head, _, digest) = try ServePushAttackTests.headManifest(w)
        let identity = try ServePushAttackTests.identity(w)
        let session = try ServePushAttackTests.lockedSession(w, ["--idle-timeout", "60"])
        for (named, records) in [("-", "-"), (String(repeating: "ab", count: 20), digest), (head, String(repeating: "0", count: 64))] {
            let answer = session.request("push-begin now 6d 2f \(named) \(records) \(identity)")
            #expect(answer?.kind == .reply && answer?.text == "records differ", "\(named): \(String(describing: answer))")
            #expect(session.request("head")?.text == head, "no push began: the next request is answered as one")
        }
        let begun = session.request("push-begin now 6d 2f \(head) \(digest) \(identity)")
        #expect(begun?.kind == .reply && begun?.text.isEmpty == true, "\(String(describing: begun))")
        #expect(session.close(within: 60) == 0)
        #expect(try w.loggedSnapshots().count == 1)
        try w.expectSuccess(w.emu("verify"))
    }

    @Test("a client that sends only keep-alives for longer than --idle-timeout keeps its session and its lock")
    func keepAlivesKeepTheSession() throws {
        let w = try ServePushAttackTests.pushedOnce()
        let session = try ServePushAttackTests.lockedSession(w, ["--idle-timeout", "2"])
        for _ in 0..<10 {
            session.send(.keepAlive, "")
            usleep(500_000)
        }
        let head = session.request("head")
        #expect(head?.kind == .reply && head?.text.count == 40, "\(String(describing: head))")
        #expect(try w.emu("push", "--lock-wait", "0").status == 5, "the session still holds the lock")
        #expect(session.close(within: 60) == 0)
    }
}

extension ServeSessionBoundsTests {
    @Test("export streams a snapshot's archive, then its counts; a path that climbs out or that the snapshot lacks is refused, and the session goes on")
    func exportPaths() throws {
        let w = try ServePushAttackTests.pushedOnce()
        let head = try ServePushAttackTests.headManifest(w).head
        let session = try ServeSession(["--sink", w.sink, "--read-only"], in: w.root)
        #expect(session.hello(sink: w.sink)?.kind == .hello)
        for (path, reason) in [("2e2e2f6574632f706173737764", "no path inside a snapshot"), ("6e6f7065", "holds nothing at nope")] {
            let answer = session.request("export \(head) \(path)")
            #expect(answer?.kind == .error && answer?.text.contains(reason) == true, "\(path): \(String(describing: answer))")
        }
        session.send(.request, "export \(head) -")
        var archive = ""
        var frame = session.receive()
        while let data = frame, data.kind == .data {
            archive += data.text
            frame = session.receive()
        }
        #expect(frame?.kind == .end, "\(String(describing: frame))")
        #expect(archive.contains("ustar") && archive.contains("one"), "the archive holds a: \(archive.prefix(100))")
        let counts = session.receive()
        #expect(counts?.kind == .reply && counts?.text == "1 3", "\(String(describing: counts))")
        #expect(session.request("head")?.kind == .reply, "the session answers the next request")
        #expect(session.close(within: 60) == 0)
    }

    @Test("a refused request's error reaches a client that kept sending, before the session ends on a frame out of place")
    func answersBeforeTheEnd() throws {
        let w = try ServePushAttackTests.pushedOnce()
        let session = try ServeSession(["--sink", w.sink, "--read-only"], in: w.root)
        #expect(session.hello(sink: w.sink)?.kind == .hello)
        session.send(.request, "lock exclusive 0")
        session.send(.data, "dir\nd")
        let refused = session.receive()
        #expect(refused?.kind == .error && refused?.text.contains("read-only") == true, "\(String(describing: refused))")
        let ended = session.receive()
        #expect(ended?.kind == .error && ended?.text.contains("where a request belongs") == true, "\(String(describing: ended))")
        #expect(session.close(within: 60) == 1)
    }
}

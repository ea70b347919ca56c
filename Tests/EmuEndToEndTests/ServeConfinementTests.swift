import EmuPOSIX
import Foundation
import Glibc
import Testing

/// `emu serve --root` attacked through its protocol (a client on pipes):
/// a sink below the root is a plain path of its own, a `--client` key
/// reaches its own area only, and a sink's own file cannot point the server
/// at an index outside the root. After each refused hello nothing was made
/// and the other sinks are as they were.
@Suite("serve --root confines every key")
struct ServeConfinementTests {
    /// A root with two machines' sinks, `a` and `b`, each holding one snapshot.
    static func root() throws -> (Workspace, String, [String: String]) {
        let w = try Workspace("emu-confine")
        let root = w.root + "/served"
        try w.expectSuccess(w.emu("init", "-q"))
        try Fixture.create(["doc": .file("a document"), "fake": .directory([".emu": .directory(["nodes": .directory([:]),
                                                                                               "trees": .directory([:])])])], at: w.source)
        var ids: [String: String] = [:]
        for name in ["a", "b"] {
            try w.expectSuccess(w.emu("sink", "add", name, root + "/" + name, "-q"))
            try w.expectSuccess(w.emu("push", name, "-q"))
            ids[name] = try String(contentsOfFile: root + "/\(name)/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .newlines)
        }
        return (w, root, ids)
    }

    @Test("no hello reaches inside a sink, a snapshot tree, a fake sink pushed as data, or a hidden name; nothing is made for it")
    func plainPathsOnly() throws {
        let (w, root, ids) = try Self.root()
        let b = ids["b"]!, a = ids["a"]!
        let dateLink = try #require(try FileManager.default.contentsOfDirectory(atPath: root + "/a").first { $0.hasPrefix("20") })
        let attacks = ["b/.emu/nodes/" + String(repeating: "e", count: 40), "b/.emu/trees/\(b)/newsink", "b/Latest/newsink",
                       "a/.emu/trees/\(a)/fake", "a/\(dateLink)/fake", "b/sub", "b/sub/deeper", ".hidden", ".emu-shared/index", "a/.emu"]
        let before = DirectoryState(of: root)
        for attack in attacks {
            for (create, plan) in [(true, false), (false, false), (false, true)] {
                let session = try ServeSession(["--root", root], in: w.root)
                let answer = session.hello(sink: root + "/" + attack, create: create, plan: plan)
                #expect(answer?.kind == .error, "hello for \(attack) (create: \(create), plan: \(plan)) was answered \(String(describing: answer))")
                #expect(session.close() == 0)
            }
        }
        let changed = DirectoryState(of: root).changes(since: before)
        #expect(changed.isEmpty, "a refused hello changed the root: \(changed.joined(separator: "\n"))")
        for name in ["a", "b"] { #expect(try w.emu("verify", name).status == 0) }
    }

    @Test("--client NAME reaches ROOT/NAME and below only; other clients' sinks are refused, the index stays shared")
    func clientArea() throws {
        let (w, root, _) = try Self.root()
        // c's area is a directory the administrator made for its sinks; d's area is to be its one sink.
        #expect(sh("mkdir -m 700 '\(root)/c'") == 0)
        for (client, path, allowed) in [("c", "c/laptop", true), ("c", "laptop2", true), ("c", "a", false), ("c", "b/x", false),
                                        ("c", "c/../b", false), ("c", "../served/b", false), ("d", "d", true), ("d", "c/laptop", false)] {
            let session = try ServeSession(["--root", root, "--client", client], in: w.root)
            let full = path.contains("/") || path.count == 1 ? root + "/" + path : path
            let answer = session.hello(sink: full, create: true)
            #expect((answer?.kind == .hello) == allowed, "\(client): \(path): \(String(describing: answer))")
            if allowed { #expect(session.request("snapshots")?.kind != .error) }
            #expect(session.close() == 0)
        }
        for sink in ["c/laptop", "c/laptop2", "d"] {
            #expect(isDirectory(root + "/\(sink)/.emu"), "\(sink) is made in its client's area")
            let index = try? String(contentsOfFile: root + "/\(sink)/.emu/shared-index", encoding: .utf8)
            #expect(index?.hasSuffix("/served/.emu-shared/index\n") == true, "\(sink) shares the root's index: \(String(describing: index))")
            // A client's device nodes and setuid files are no local user's to reach.
            for made in [sink, sink + "/.emu"] { #expect(permissions(root + "/" + made) == 0o700, "\(made) is open to others") }
        }
        #expect(permissions(root) == 0o700 && permissions(root + "/.emu-shared") == 0o700)
        #expect(!entryExists(root + "/laptop2") && !entryExists(root + "/b/x"))
        let invalid = try w.emu("serve", "--root", root, "--client", "../b")
        #expect(invalid.status == 2 && invalid.stderr.contains("one plain name"), "\(invalid.stderr)")
    }

    @Test("every request that changes a sink needs the exclusive lock; record-verification is no request at all")
    func changesNeedTheLock() throws {
        let (w, root, ids) = try Self.root()
        let a = ids["a"]!
        let session = try ServeSession(["--root", root], in: w.root)
        #expect(session.hello(sink: root + "/a")?.kind == .hello)
        let changes = ["recover", "delete \(a)", "finish-deleting", "clean - -", "free-space 99 0 1 - \(a)"]
        for lock in ["", "lock shared 0"] {
            if !lock.isEmpty { #expect(session.request(lock)?.kind == .reply) }
            for change in changes {
                let answer = session.request(change)
                #expect(answer?.kind == .error && answer?.text.contains("needs its exclusive lock") == true, "\(change) (\(lock)): \(String(describing: answer))")
            }
        }
        let forged = session.request("record-verification \(a) clean 0")
        #expect(forged?.kind == .error && forged?.text.contains("does not know the request") == true, "\(String(describing: forged))")
        #expect(session.request("unlock")?.kind == .reply)
        #expect(session.request("lock exclusive 0")?.kind == .reply)
        #expect(session.request("recover")?.kind == .reply)
        #expect(session.close() == 0)
        #expect(try w.loggedSnapshots("a").compactMap { $0["id"] as? String } == [a])
        #expect(try w.emu("verify", "a").status == 0)
    }

    @Test("requests sent together behind a lock another emu holds are each refused, as alone: none changes the sink, nothing begins")
    func pipelinedBehindAnotherLock() throws {
        let (w, root, ids) = try Self.root()
        let a = ids["a"]!
        let holder = try LockHolder(root + "/a/.emu/lock")
        let session = try ServeSession(["--root", root], in: w.root)
        #expect(session.hello(sink: root + "/a")?.kind == .hello)
        let identity = try String(contentsOfFile: w.source + "/.emu/identity", encoding: .utf8).trimmingCharacters(in: .newlines)
        // As a push sends its first requests: all written before any answer is read.
        let together = ["lock exclusive 0", "recover", "push-begin now 6d 2f - - \(identity)", "delete \(a)", "finish-deleting", "snapshots"]
        for words in together { session.send(.request, words) }
        let answers = together.map { _ in session.receive() }
        #expect(answers[0]?.kind == .error && answers[0]?.text.contains("locked by another") == true, "\(String(describing: answers[0]))")
        #expect(answers[1]?.kind == .error && answers[1]?.text.contains("needs its exclusive lock") == true, "\(String(describing: answers[1]))")
        #expect(answers[2]?.kind == .error && answers[2]?.text.contains("needs the sink's exclusive lock") == true, "\(String(describing: answers[2]))")
        #expect(answers[3...4].allSatisfy { $0?.kind == .error }, "\(answers)")
        #expect(answers[5]?.kind == .data && answers[5]?.text.hasPrefix(a) == true, "the list answers last, in order: \(String(describing: answers[5]))")
        holder.release()
        #expect(session.close() == 0)
        #expect(try w.loggedSnapshots("a").compactMap { $0["id"] as? String } == [a])
        let staged = (try? FileManager.default.contentsOfDirectory(atPath: root + "/a/.emu/staging")) ?? []
        #expect(staged.isEmpty, "no push began: \(staged)")
        #expect(try w.emu("verify", "a").status == 0)
    }

    @Test("a sink's own .emu/shared-index naming a directory outside the root is refused, not used")
    func plantedIndex() throws {
        let (w, root, ids) = try Self.root()
        #expect(sh("mkdir -p '\(w.root)/elsewhere/ab' && : > '\(w.root)/elsewhere/ab/planted' && echo '\(w.root)/elsewhere' > '\(root)/a/.emu/shared-index'") == 0)
        // Not cached: the unique size is worked out from the index.
        #expect(sh("sed -i '/unique-size/d' '\(root)/a/.emu/nodes/\(ids["a"]!)'") == 0)
        let session = try ServeSession(["--root", root, "--read-only"], in: w.root)
        #expect(session.hello(sink: root + "/a")?.kind == .hello)
        let answer = session.request("unique-bytes \(ids["a"]!)")
        #expect(answer?.kind == .error && answer?.text.contains("not this server's") == true, "\(String(describing: answer))")
        #expect(session.close() == 0)
    }
}

extension ServeConfinementTests {
    @Test("an error frame names paths as the client does, never where the server's symlinks lead")
    func errorsNameTheClientsPaths() throws {
        let (w, root, _) = try Self.root()
        let link = w.root + "/door"
        #expect(symlink(root, link) == 0)
        for (path, create) in [("missing", false), ("a/sub", true), ("a/.emu", false)] {
            let session = try ServeSession(["--root", link], in: w.root)
            let answer = session.hello(sink: link + "/" + path, create: create)
            #expect(answer?.kind == .error && answer?.text.contains("/served") == false, "\(path): \(String(describing: answer))")
            #expect(session.close() == 0)
        }
        // A client's key learns nothing of other areas: another client's sink and a missing path get one answer.
        let answers = try ["b", "nosuch"].map { name in
            let session = try ServeSession(["--root", root, "--client", "c"], in: w.root)
            defer { _ = session.close() }
            return session.hello(sink: root + "/" + name, create: true)?.text.replacingOccurrences(of: "/" + name + " ", with: "/NAME ")
        }
        #expect(answers[0] != nil && answers[0] == answers[1], "\(answers)")
    }
}

/// An entry's permission bits (nil when it is missing).
func permissions(_ path: String) -> UInt32? {
    var st = stat()
    return lstat(path, &st) == 0 ? UInt32(st.st_mode) & 0o7777 : nil
}

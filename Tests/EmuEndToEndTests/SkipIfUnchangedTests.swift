import Foundation
import Testing

/// `push --skip-if-unchanged` (restic's flag): no snapshot when nothing
/// changed, said so; the sink then stays as it was, locally and over ssh (issue 28).
@Suite("push --skip-if-unchanged")
struct SkipIfUnchangedTests {
    static func sinkEntries(_ w: Workspace, _ sink: String? = nil) -> [String] {
        let root = (sink ?? w.sink) + "/.emu"
        return ["trees", "nodes", "manifests"].flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)) ?? []).map { folder + "/" + $0 }
        }.sorted() + (FileManager.default.fileExists(atPath: root + "/staging") ? ["staging"] : [])
    }

    @Test("nothing changed: no snapshot, a line naming the newest, unchanged_since in JSON, exit 0, the sink as it was")
    func nothingChanged() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one"), "d": .directory(["b": .file("two")])], at: w.source)
        try w.expectSuccess(w.emu("push", "-q"))
        let before = Self.sinkEntries(w)
        let skipped = try w.emu("push", "--skip-if-unchanged", "-m", "nothing new")
        try w.expectSuccess(skipped)
        #expect(skipped.stdout.contains("origin: nothing changed since snapshot ") && skipped.stdout.contains("no snapshot made"), "\(skipped.stdout)")
        #expect(Self.sinkEntries(w) == before, "no tree, record or manifest added, no staging left")
        let json = try w.emu("push", "--skip-if-unchanged", "--json")
        try w.expectSuccess(json)
        let document = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let push = try #require((document?["pushes"] as? [[String: Any]])?.first)
        let newest = try w.loggedSnapshots()
        #expect(newest.count == 1 && push["snapshot"] == nil)
        #expect((push["unchanged_since"] as? [String: Any])?["id"] as? String == newest[0]["id"] as? String, "\(json.stdout)")
        try w.expectSuccess(w.emu("push", "-q"))
        #expect(try w.loggedSnapshots().count == 2, "without the flag a push makes its snapshot")
    }

    @Test("any change makes a snapshot: content, mode, a deletion, an added empty directory",
          arguments: ["echo more >> a", "chmod 600 a", "rm d/b", "mkdir e"])
    func changeMakesOne(change: String) throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one"), "d": .directory(["b": .file("two")])], at: w.source)
        try w.expectSuccess(w.emu("push", "-q"))
        #expect(sh("cd '\(w.source)' && \(change)") == 0)
        let pushed = try w.emu("push", "--skip-if-unchanged")
        try w.expectSuccess(pushed)
        #expect(pushed.stdout.contains("origin: snapshot "), "\(pushed.stdout)")
        #expect(try w.loggedSnapshots().count == 2)
    }

    @Test("a push that found nothing changed keeps status fresh, and its .post hook hears 'unchanged'")
    func freshness() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        let old = Int(Date().timeIntervalSince1970) - 5 * 86_400
        try w.expectSuccess(w.emu("push", "-q", "--date", "@\(old)"))
        #expect(try w.emu("status", "--check").status == 1, "five days old: stale")
        #expect(sh("printf '#!/bin/sh\\necho \"$EMU_STATUS $EMU_SNAPSHOT\" > \"$EMU_SOURCE/../heard\"\\n' > '\(w.source)/.emu/hooks/push/heard.post' && chmod +x '\(w.source)/.emu/hooks/push/heard.post'") == 0)
        try w.expectSuccess(w.emu("push", "-q", "--skip-if-unchanged"))
        let checked = try w.emu("status", "--check")
        #expect(checked.status == 0, "found unchanged just now: fresh. \(checked.stderr)")
        let id = try #require(try w.loggedSnapshots().first?["id"] as? String)
        #expect(try String(contentsOfFile: w.root + "/heard", encoding: .utf8) == "unchanged \(id)\n")
    }
}

/// The same over ssh: the server decides, and says so in its answer.
@Suite("push --skip-if-unchanged over ssh", Skips.needs(SSHServer.isAvailable, "needs openssh-server (make test-deps installs it)"))
struct RemoteSkipIfUnchangedTests {
    @Test("over ssh: no snapshot when nothing changed, one when something did; the server's sink gains nothing")
    func overSSH() throws {
        let w = try Workspace("emu-skip")
        let server = try SSHServer(in: w.root)
        defer { withExtendedLifetime(server) {} }
        #expect(sh("cd '\(w.source)' && echo one > a && mkdir d && echo two > d/b") == 0)
        try w.expectSuccess(w.emu("init", "-q"))
        try w.expectSuccess(w.emu("sink", "add", "nas", server.address(w.sink), "--ssh-command", server.sshCommand, "--remote-emu", EmuBinary.path))
        try w.expectSuccess(w.emu("push", "-q"))
        let before = SkipIfUnchangedTests.sinkEntries(w)
        let skipped = try w.emu("push", "--skip-if-unchanged")
        try w.expectSuccess(skipped)
        #expect(skipped.stdout.contains("nas: nothing changed since snapshot "), "\(skipped.stdout)\(skipped.stderr)")
        #expect(SkipIfUnchangedTests.sinkEntries(w) == before)
        #expect(sh("chmod 600 '\(w.source)/d/b'") == 0)
        try w.expectSuccess(w.emu("push", "--skip-if-unchanged", "-q"))
        #expect(try w.loggedSnapshots("nas").count == 2)
    }
}

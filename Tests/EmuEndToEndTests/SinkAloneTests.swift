import Foundation
import Testing

/// On a server there is no source: an administrator names a sink by its
/// path (`emu prune /srv/emu/laptop`), as the append-only setup in
/// emu-serve(1) tells them to.
@Suite("a sink named by its path, with no source around it")
struct SinkAloneTests {
    @Test("log, show, verify, prune (retention and references), squash and clean take a sink's path; push still needs a source")
    func administerByPath() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        for text in ["two", "three"] {
            try w.expectSuccess(w.emu("push"))
            sh("echo \(text) > '\(w.source)/a'")
        }
        try w.expectSuccess(w.emu("push"))
        try w.expectSuccess(w.emu("config", "--sink", "origin", "retention.keep-last", "2"))
        let nowhere = w.root  // no .emu here or above
        func emu(_ arguments: String...) throws -> Run { try EmuBinary.run(arguments, in: nowhere) }
        let log = try emu("log", w.sink, "--oneline")
        #expect(log.status == 0 && log.stdout.split(separator: "\n").count == 3, "\(log.stdout)\(log.stderr)")
        #expect(try emu("show", w.sink + ":HEAD:a").stdout == "three\n")
        #expect(try emu("verify", w.sink).status == 0)
        let retention = try emu("prune", w.sink)
        #expect(retention.status == 0, "\(retention.stderr)")
        #expect(try emu("log", w.sink, "--oneline").stdout.split(separator: "\n").count == 2, "the sink's own retention applied")
        #expect(try emu("prune", w.sink + ":TAIL").status == 0)
        #expect(try emu("clean", w.sink).status == 0)
        let push = try emu("push", w.sink)
        #expect(push.status == 2 && push.stderr.contains("not inside an emu source"), "\(push.stderr)")
        let unknown = try emu("log", w.root + "/nosuch")
        #expect(unknown.status == 2 && unknown.stderr.contains("not inside an emu source"), "\(unknown.stderr)")
        try w.expectSuccess(w.emu("verify"))
        #expect(try w.loggedSnapshots().count == 1)
    }
}

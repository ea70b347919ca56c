import EmuPOSIX
import Foundation
import Glibc
import Testing

/// A sink on a shared NAS or a server can be written by someone else: what
/// emu reads from it must never make it read, write or delete outside the
/// sink and the checkout target (issue 10). Each attack edits a real sink,
/// then every command runs against it; the directory beside the sink must
/// come through unchanged, no command may crash, and what lies in it must
/// never be read: its contents appear in no command's output and in no
/// file the commands write (restores, archives, the sink itself).
@Suite("hostile sinks")
struct HostileSinkTests {
    /// One way to tamper with a sink: a shell command run in it, with
    /// OLDER and NEWER the two snapshots' IDs and OUTSIDE a directory
    /// beside the sink that nothing may touch.
    static let attacks: [(String, String)] = [
        ("a record whose hardlink leader lies behind a symlink the snapshot holds",
         #"m=.emu/manifests/$NEWER; unchunk $m; awk -F'\t' 'BEGIN{OFS="\t"} $12=="b"{$11="aaa_lnk/secret"} {print}' $m > m.tmp && mv m.tmp $m"#),
        ("a record naming x/../../escape",
         #"m=.emu/manifests/$NEWER; chmod u+w $m; mkdir -p .emu/trees/$NEWER/x .x; awk -F'\t' 'BEGIN{OFS="\t"} $12=="b"{$12="x/../../../../outside/secret"} {print}' $m > m.tmp && mv m.tmp $m"#),
        ("a record naming an absolute path",
         #"m=.emu/manifests/$NEWER; unchunk $m; awk -F'\t' 'BEGIN{OFS="\t"} $12=="b"{$12=ENVIRON["OUTSIDE"] "/secret"} {print}' $m > m.tmp && mv m.tmp $m"#),
        ("a snapshot's tree replaced by a symlink to the outside", #"rm -rf .emu/trees/$OLDER && ln -s "$OUTSIDE" .emu/trees/$OLDER"#),
        ("a directory in a tree replaced by a symlink to the outside", #"rm -rf .emu/trees/$NEWER/d && ln -s "$OUTSIDE" .emu/trees/$NEWER/d"#),
        ("an index bucket replaced by a symlink to the outside",
         #"b=$(ls .emu/index | grep -E '^[0-9a-f]{2}$' | head -1); rm -rf .emu/index/$b && ln -s "$OUTSIDE" .emu/index/$b"#),
        ("a trash entry that names the parent directory", #"mkdir -p .emu/trash && touch .emu/trash/...node .emu/trash/..node"#),
        ("a truncated manifest and a garbage record", #"m=.emu/manifests/$OLDER; chmod u+w $m; head -c 100 $m > m.tmp && mv m.tmp $m; printf '\0\377garbage' > .emu/nodes/$NEWER"#),
        ("a manifest listing a chunk that is missing, and one that is garbage",
         #"rm -f .emu/chunks/*/$(sed -n 2p .emu/manifests/$NEWER | cut -c1-64); c=$(sed -n 2p .emu/manifests/$OLDER | cut -c1-64); f=.emu/chunks/$(printf %.2s $c)/$c; chmod u+w $f; printf '\0\377garbage' > $f"#),
        ("a manifest listing a chunk by a path instead of a hash", #"chmod u+w .emu/manifests/$NEWER; printf 'emu-chunks 1\n../../../outside/secret 3\n' > .emu/manifests/$NEWER"#),
        ("HEAD naming a missing snapshot", #"echo 0123456789abcdef0123456789abcdef01234567 > .emu/HEAD"#),
        ("a record whose date link's name climbs out of the sink",
         #"sed -i 's|^name = .*|name = ../outside/planted|' .emu/nodes/$OLDER"#),
        ("a record whose date link's name is an absolute path", #"sed -i "s|^name = .*|name = $OUTSIDE/planted|" .emu/nodes/$NEWER"#),
        ("a manifest replaced by a symlink to a file outside", #"rm .emu/manifests/$NEWER && ln -s "$OUTSIDE/secret" .emu/manifests/$NEWER"#),
    ]

    static let commands: [[String]] = [
        ["checkout", "HEAD", "--to", "restored"], ["checkout", "TAIL", "--to", "restored2"], ["diff", "TAIL", "HEAD"], ["diff"],
        ["log"], ["log", "--short"], ["log", "--json", "--", "d/c"], ["verify"], ["status"], ["show", "HEAD:b"], ["show", "HEAD:d"],
        ["export", "HEAD", "--to", "../export.tar"], ["export", "TAIL", "--to", "../export2.tar"], ["find", "*"], ["find", "*", "--json"],
        ["timeline"], ["timeline", "--path", "d/c"], ["prune", "TAIL"], ["clean"], ["clean", "--repair"], ["import", "dirs", "../incoming"],
        ["push"], ["squash", "HEAD"], ["checkout", "HEAD", "-f"],
    ]

    /// What the files outside hold: a command that prints or writes either has read outside the sink.
    static let secrets = ["SECRET-7f3a9c-never-read", "SECRET-51be02-nor-this"]

    @Test("a record's date link name that is a path is damage: verify names it, clean --repair names the link from the date")
    func pathAsDateLinkName() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        let id = try String(contentsOfFile: w.sink + "/.emu/HEAD", encoding: .utf8).trimmingCharacters(in: .newlines)
        let dateName = try #require(try FileManager.default.contentsOfDirectory(atPath: w.sink).first { $0.hasPrefix("20") })
        #expect(sh("sed -i 's|^name = .*|name = ../escape_link|' '\(w.sink)/.emu/nodes/\(id)' && echo keep > '\(w.root)/escape_link'") == 0)
        let verify = try w.emu("verify", "--json")
        #expect(verify.status == 4 && verify.stdout.contains(#""kind":"record""#), "\(verify.stdout)\(verify.stderr)")
        try w.expectSuccess(w.emu("clean", "--repair"))
        #expect(try String(contentsOfFile: w.root + "/escape_link", encoding: .utf8) == "keep\n", "nothing outside the sink is written")
        #expect(try String(contentsOfFile: w.sink + "/.emu/nodes/\(id)", encoding: .utf8).contains("name = \(dateName)\n"))
        try w.expectSuccess(w.emu("verify"))
        try w.expectSuccess(w.emu("prune", "HEAD"))
        #expect(try String(contentsOfFile: w.root + "/escape_link", encoding: .utf8) == "keep\n", "prune deleted nothing outside")
    }

    @Test("no command reads, writes or deletes outside the sink and the target", arguments: attacks.map(\.0))
    func attack(_ name: String) throws {
        let command = try #require(Self.attacks.first { $0.0 == name }?.1)
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one"), "b": .file("bee"), "d": .directory(["c": .file("see")]), "aaa_lnk": .symlink(w.root + "/outside")],
                           at: w.source)
        try w.expectSuccess(w.emu("push"))
        sh("echo two > '\(w.source)/a'")
        try w.expectSuccess(w.emu("push"))
        let trees = try w.trees().map { URL(fileURLWithPath: $0).lastPathComponent }
        let outside = w.root + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: false)
        try Fixture.create(["secret": .file(Self.secrets[0]), "sub": .directory(["file": .file(Self.secrets[1])])], at: outside)
        try FileManager.default.createDirectory(atPath: w.root + "/incoming", withIntermediateDirectories: false)
        try Fixture.create(["imported": .file("a folder another tool backed up")], at: w.root + "/incoming")
        let before = try describeTree(outside)
        let env = "OLDER=\(trees[0]) NEWER=\(trees[1]) OUTSIDE='\(outside)'"
        #expect(sh(manifestShell + "cd '\(w.sink)' && export \(env) && \(command)") == 0, "the attack could not be set up")
        for arguments in Self.commands {
            let run = try EmuBinary.run(arguments, in: w.source)
            #expect(!run.killed, "emu \(arguments.joined(separator: " ")) crashed: \(run.stderr)")
            #expect([0, 1, 2, 3, 4].contains(run.status), "emu \(arguments.joined(separator: " ")): exit \(run.status)")
            expectSameTrees(before, try describeTree(outside))
            var st = stat()
            #expect(lstat(outside + "/secret", &st) == 0 && st.st_nlink == 1, "after emu \(arguments.joined(separator: " ")): a link to the outside file")
            for secret in Self.secrets {
                #expect(!(run.stdout + run.stderr).contains(secret), "emu \(arguments.joined(separator: " ")) printed what lies outside the sink")
                // grep -r follows no symlink below the root: only bytes a command wrote count.
                #expect(sh("grep -rlF --exclude-dir=outside '\(secret)' '\(w.root)'", mayFail: true) == 1,
                        "after emu \(arguments.joined(separator: " ")): a file holds what lies outside the sink")
            }
        }
    }
}

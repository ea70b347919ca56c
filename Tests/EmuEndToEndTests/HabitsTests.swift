import Foundation
import Testing

/// Habits people bring from git and restic (issue 11).
@Suite("habits from git and restic")
struct HabitsTests {
    /// Three snapshots: ten days ago ("old import"), three days ago, and now ("today").
    static func threeSnapshots() throws -> Workspace {
        let w = try Workspace().initialize()
        try w.expectSuccess(w.bash("echo 1 > a"))
        try w.expectSuccess(w.emu("push", "--date", "10 days ago", "-m", "old import"))
        try w.expectSuccess(w.bash("echo 2 > a"))
        try w.expectSuccess(w.emu("push", "--date", "3 days ago", "-m", "middle"))
        try w.expectSuccess(w.bash("echo 3 > a"))
        try w.expectSuccess(w.emu("push", "-m", "today"))
        return w
    }

    static func lines(_ run: Run) -> [Substring] { run.stdout.split(separator: "\n") }

    @Test("log -1, -n1, --oneline, --since, --until, --grep; @yesterday and @\"2 days ago\" refs")
    func logSelection() throws {
        let w = try Self.threeSnapshots()
        for arguments in [["log", "-1", "--oneline"], ["log", "-n1", "--oneline"], ["log", "-n", "1", "--short"]] {
            let run = try w.emu(arguments: arguments)
            try w.expectSuccess(run)
            #expect(Self.lines(run).count == 1 && run.stdout.hasSuffix("today\n"), "\(arguments): \(run.stdout)")
        }
        #expect(try Self.lines(w.emu("log", "--oneline", "--since", "yesterday")).count == 1)
        #expect(try Self.lines(w.emu("log", "--oneline", "--since", "5 days ago")).count == 2)
        let until = try w.emu("log", "--oneline", "--until", "5 days ago")
        #expect(Self.lines(until).count == 1 && until.stdout.hasSuffix("old import\n"), "\(until.stdout)")
        let grep = try w.emu("log", "--oneline", "--grep", "^mid")
        #expect(Self.lines(grep).count == 1 && grep.stdout.hasSuffix("middle\n"), "\(grep.stdout)")
        #expect(try w.emu("show", "@yesterday:a").stdout == "2\n")
        #expect(try w.emu("show", "@2 days ago:a").stdout == "2\n")
        #expect(try w.emu("log", "--since", "someday").status == 2)
    }

    @Test("diff --exit-code and -q answer with the status, as git diff does")
    func diffExitCode() throws {
        let w = try Self.threeSnapshots()
        try w.expectSuccess(w.emu("diff", "--exit-code"))
        try w.expectSuccess(w.bash("echo 4 > a"))
        let code = try w.emu("diff", "--exit-code")
        #expect(code.status == 1 && code.stdout == "M\ta\n")
        let quiet = try w.emu("diff", "-q")
        #expect(quiet.status == 1 && quiet.stdout.isEmpty)
        #expect(try w.emu("diff").status == 0)
    }

    @Test("a mistyped command gets a suggestion; emu help NOSUCH is an error")
    func mistypedCommands() throws {
        let w = try Workspace()
        let typo = try w.emu("pus")
        #expect(typo.status == 2 && typo.stderr.contains("did you mean `emu push`?"), "\(typo.stderr)")
        let help = try w.emu("help", "nosuch")
        #expect(help.status == 2 && help.stderr.contains("'nosuch' is not an emu command"), "\(help.stderr)")
        try w.expectSuccess(w.emu("help", "push"))
    }

    @Test("log on a terminal goes through $PAGER unless --no-pager; colour follows NO_COLOR (when not empty) and TERM=dumb")
    func pagerAndColour() throws {
        let w = try Self.threeSnapshots()
        func onTerminal(_ command: String, _ environment: String) throws -> String {
            try w.bash("\(environment) script -qec '\"$EMU\" \(command)' /dev/null").stdout
        }
        let paged = try onTerminal("log --oneline", "PAGER='sed s/^/paged:/'")
        #expect(paged.hasPrefix("paged:"), "\(paged)")
        #expect(try !onTerminal("log --oneline --no-pager", "PAGER='sed s/^/paged:/'").contains("paged:"))
        #expect(try onTerminal("log --oneline --no-pager", "NO_COLOR=").contains("\u{1b}["), "an empty NO_COLOR does not turn colour off")
        #expect(try !onTerminal("log --oneline --no-pager", "NO_COLOR=1").contains("\u{1b}["))
        #expect(try !onTerminal("log --oneline", "TERM=dumb PAGER='sed s/^/paged:/'").contains("\u{1b}["))
        #expect(try !onTerminal("log --oneline", "TERM=dumb PAGER='sed s/^/paged:/'").contains("paged:"))
    }

    @Test("results go to stdout with counts in words: '1 file'; a dry run says 'would copy'")
    func resultsOnStdout() throws {
        let w = try Workspace().initialize()
        try w.expectSuccess(w.bash("echo x > only"))
        let dry = try w.emu("push", "-n")
        try w.expectSuccess(dry)
        #expect(dry.stdout.contains("would copy") && !dry.stdout.contains("copied"), "\(dry.stdout)")
        let push = try w.emu("push")
        try w.expectSuccess(push)
        #expect(push.stdout.contains("origin: snapshot ") && push.stdout.contains(": 1 file, "), "\(push.stdout)")
        let checkout = try w.emu("checkout", "HEAD", "--to", w.root + "/out")
        try w.expectSuccess(checkout)
        #expect(checkout.stdout.contains("Restored origin:") && checkout.stdout.contains("1 file written"), "\(checkout.stdout)")
        #expect(try w.emu("push", "-q").stdout.isEmpty)
    }

    @Test("log --short over several sinks says which sink each line is in")
    func shortLogNamesSinks() throws {
        let w = try Workspace().initialize()
        try w.expectSuccess(w.emu("sink", "add", "usb", w.root + "/usb"))
        try w.expectSuccess(w.bash("echo x > a"))
        try w.expectSuccess(w.emu("push"))
        let lines = try Self.lines(w.emu("log", "--short", "origin", "usb"))
        #expect(lines.count == 2)
        #expect(lines.contains { $0.hasPrefix("origin:") } && lines.contains { $0.hasPrefix("usb:") }, "\(lines)")
    }

    @Test("completion offers sink names and snapshot references")
    func completions() throws {
        let w = try Self.threeSnapshots()
        let sinks = try w.emu("---completion", "push", "--", "positional@0", "2", "0", "emu", "push", "")
        #expect(sinks.stdout == "origin\n", "\(sinks.stdout) \(sinks.stderr)")
        let references = try w.emu("---completion", "show", "--", "positional@0", "2", "7", "emu", "show", "origin:")
        let words = references.stdout.split(separator: "\n")
        #expect(words.contains("origin:HEAD") && words.count == 5, "\(words)")
    }

    @Test("push --exclude-from, --files-from and --exclude-caches, as restic has them")
    func pushFileLists() throws {
        let w = try Workspace().initialize()
        try w.expectSuccess(w.bash("""
            mkdir -p keep/sub drop cache && echo 1 > keep/sub/f && echo 2 > drop/g && echo 3 > top && echo 4 > cache/blob
            printf 'Signature: 8a477f597d28d172789f06886806bc55\\n' > cache/CACHEDIR.TAG
            printf '# comment\\ndrop/\\n' > ../excludes.txt; printf 'keep/sub\\ntop\\n' > ../files.txt
            """))
        try w.expectSuccess(w.emu("push", "--exclude-from", w.root + "/excludes.txt", "--exclude-caches"))
        let first = try w.emu("show", "HEAD:").stdout
        #expect(first.contains(" keep\n") && first.contains(" top\n") && !first.contains("drop") && !first.contains("cache"), "\(first)")
        try w.expectSuccess(w.emu("push", "--files-from", w.root + "/files.txt"))
        let second = try w.emu("show", "HEAD:").stdout
        #expect(second.contains(" keep\n") && second.contains(" top\n") && !second.contains("drop") && !second.contains("cache"), "\(second)")
        #expect(try w.emu("show", "HEAD:keep/sub/f").stdout == "1\n")
        #expect(try w.emu("push", "--files-from", w.root + "/missing.txt").status == 2)
    }
}

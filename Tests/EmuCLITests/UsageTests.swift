import ArgumentParser
@testable import EmuCLI
import EmuCore
import EmuRecords
import Testing

/// Usage errors, parsed in-process with their exact text, as
/// swift-argument-parser's own tests check theirs.
@Suite("usage errors")
struct UsageTests {
    /// The message a bad command line gets, and its exit status.
    static func failure(_ arguments: [String]) -> (message: String, status: EmuCLI.ExitStatus)? {
        do {
            let normalized = try CommandLineHabits.normalized(arguments)
            // Validation runs inside the parse; nothing is run.
            _ = try Emu.parseAsRoot(normalized)
            return nil
        } catch let error as EmuError {
            return (error.message, EmuCLI.ExitStatus(error.kind))
        } catch {
            return (Emu.message(for: error), Emu.exitCode(for: error) == ArgumentParser.ExitCode.success ? .success : .usage)
        }
    }

    @Test("option values are checked while parsing, with the fix in the message", arguments: [
        (["log", "--max-count=-1"], "-n takes a count of 0 or more"),
        (["log", "--since", "someday"], "--since 'someday' is not a date: use 2026-11-01, '2026-11-01 12:00', yesterday or '2 days ago'"),
        (["log", "--grep", "("], "--grep '(' is not a regular expression"),
        (["verify", "--sample", "0"], "--sample takes a percentage above 0 and at most 100"),
        (["config", "--unset"], "--unset takes one KEY and no VALUE"),
        (["checkout", "HEAD", "--delete"], "--delete goes with --to DIR: a checkout into the source always removes what the snapshot does not hold"),
        (["sink", "add", "nas", "rsync://host/srv"], "'rsync://host/srv' looks like a remote address, but emu reaches remote sinks over ssh only, as ssh://user@host[:port]/path or user@host:path; for a local name with a colon, write it as ./rsync://host/srv"),
        (["sink", "add", "nas", "/srv/emu", "--remote-emu", "/opt/emu"], "--ssh-command and --remote-emu are for a remote sink (ssh://user@host/path or user@host:path)"),
        (["serve"], "emu serve takes one of --sink PATH and --root DIR"),
    ])
    func validation(arguments: [String], message: String) throws {
        let failure = try #require(Self.failure(arguments))
        #expect(failure.message == message)
        #expect(failure.status == .usage)
    }

    @Test("a mistyped command is answered with the closest one; help for no command is refused")
    func unknownCommands() throws {
        let typo = try #require(Self.failure(["chekout", "HEAD"]))
        #expect(typo.message == "'chekout' is not an emu command; did you mean `emu checkout`?")
        #expect(typo.status == .usage)
        let help = try #require(Self.failure(["help", "nosuch"]))
        #expect(help.message == "'nosuch' is not an emu command")
    }

    @Test("a mistyped command of sink or schedule is answered with the closest one, also after help (which said nothing and exited 0)", arguments: [
        (["sink", "ad", "x", "y"], "'ad' is not an `emu sink` command; did you mean `emu sink add`?"),
        (["sink", "remove", "nas"], "'remove' is not an `emu sink` command; did you mean `emu sink rm`?"),
        (["schedule", "enabel"], "'enabel' is not an `emu schedule` command; did you mean `emu schedule enable`?"),
        (["help", "sink", "ad"], "'ad' is not an `emu sink` command; did you mean `emu sink add`?"),
    ])
    func unknownSubcommands(arguments: [String], message: String) throws {
        let failure = try #require(Self.failure(arguments))
        #expect(failure.message == message && failure.status == .usage, "\(failure)")
    }

    @Test("git's -N and -nN become -n N for log only, and never after --")
    func countHabits() throws {
        #expect(try CommandLineHabits.normalized(["log", "-3", "--oneline"]) == ["log", "-n", "3", "--oneline"])
        #expect(try CommandLineHabits.normalized(["log", "-n12"]) == ["log", "-n", "12"])
        #expect(try CommandLineHabits.normalized(["log", "--", "-3"]) == ["log", "--", "-3"])
        #expect(try CommandLineHabits.normalized(["diff", "-3"]) == ["diff", "-3"])
    }

    @Test("the exit-status table in every help is made from the enum")
    func exitStatusTable() {
        #expect(EmuCLI.ExitStatus.help.split(separator: "\n").count == EmuCLI.ExitStatus.allCases.count + 1)
        #expect(EmuCLI.ExitStatus.help.contains("  4  verify found damage"))
    }
}

import ArgumentParser
import Foundation
import EmuCore
import EmuPOSIX
import Glibc
import EmuRecords
import EmuRemote

/// Runs the command line and exits with a status from `ExitStatus`.
public enum EmuMain {
    public static func run() -> Never {
        let status: ExitStatus
        do {
            let given = try CommandLineHabits.normalized(Array(arguments.dropFirst()))
            var command = try Emu.parseAsRoot(given)
            try command.run()
            status = .success
        } catch {
            status = report(error)
        }
        fflush(nil)
        SharedConnections.closeAll()
        Pager.finish()
        exit(status.rawValue)
    }

    /// The command line as the kernel gave it: each argument's bytes, carried
    /// losslessly in a `String` (names need not be UTF-8; Swift's own
    /// `CommandLine.arguments` replaces what is not).
    nonisolated(unsafe) static let arguments: [String] = (0..<Int(CommandLine.argc)).map { index in
        guard let argument = CommandLine.unsafeArgv[index] else { return "" }
        return String(fileSystemBytes: UnsafeBufferPointer(start: UnsafeRawPointer(argument).assumingMemoryBound(to: UInt8.self), count: strlen(argument)))
    }

    /// Prints an error as its user needs it and picks the exit status.
    static func report(_ error: Error) -> ExitStatus {
        switch error {
        case let status as ExitStatus:
            return status
        case let error as EmuError:
            Terminal.standardError.error(error.message, fix: error.fix)
            return ExitStatus(error.kind)
        case let error as FileSystemError:
            Terminal.standardError.error(EmuError(error).message, fix: EmuError(error).fix)
            return .failure
        default:
            // argument-parser's own errors: help and --version succeed, the rest is usage.
            if Emu.exitCode(for: error) == .success {
                print(Emu.fullMessage(for: error))
                return .success
            }
            let (problem, fix) = usageProblem(Emu.message(for: error))
            Terminal.standardError.error(problem, fix: fix)
            return .usage
        }
    }

    /// argument-parser's message in emu's words: the problem, and as the fix
    /// its suggestion (`Did you mean '--dry-run'?`) and the command's help,
    /// instead of its own `Error:` and usage block.
    static func usageProblem(_ message: String) -> (problem: String, fix: String) {
        var text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("Error: ") { text = String(text.dropFirst("Error: ".count)) }
        var suggestion = ""
        if let range = text.range(of: ". Did you mean ") {
            suggestion = "did you mean " + text[range.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "?")) + "? "
            text = String(text[..<range.lowerBound])
        }
        let problem = (text.first.map { $0.lowercased() + text.dropFirst() } ?? text).trimmingCharacters(in: CharacterSet(charactersIn: "."))
        return (problem, suggestion + "`\(commandPath) --help` lists what it takes")
    }

    /// `emu`, and the command and subcommand named on the command line (`emu sink add`).
    static var commandPath: String {
        var path = ["emu"]
        var command: ParsableCommand.Type = Emu.self
        for word in arguments.dropFirst() where !word.hasPrefix("-") {
            guard let sub = command.configuration.subcommands.first(where: { $0._commandName == word }) else { break }
            path.append(word)
            command = sub
        }
        return path.joined(separator: " ")
    }
}

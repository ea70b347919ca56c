import ArgumentParser
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
            let message = Emu.fullMessage(for: error)
            if Emu.exitCode(for: error) == .success {
                print(message)
                return .success
            }
            writeStandardError(message + "\n")
            return .usage
        }
    }
}

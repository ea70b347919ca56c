import ArgumentParser
import EmuCore
import EmuPOSIX
import Glibc

/// Runs the command line and exits with a status from `ExitStatus`.
public enum EmuMain {
    public static func run() -> Never {
        let status: ExitStatus
        do {
            var command = try Emu.parseAsRoot()
            try command.run()
            status = .success
        } catch {
            status = report(error)
        }
        fflush(nil)
        exit(status.rawValue)
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

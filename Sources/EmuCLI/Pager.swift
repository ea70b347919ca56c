import CEmuShims
import Glibc

/// Long output on a terminal goes through a pager, as git's does: `$PAGER`
/// (else `less`, with `LESS=FRX` unless set, so that a short listing
/// prints and exits), started once and waited for when emu exits.
enum Pager {
    nonisolated(unsafe) static var process: Int32 = 0

    static func start(terminal: Terminal) {
        guard process == 0, isatty(STDOUT_FILENO) == 1, !terminal.isDumb else { return }
        let command = getenv("PAGER").map { String(cString: $0) } ?? "less"
        guard !command.isEmpty, command != "cat" else { return }
        setenv("LESS", "FRX", 0)
        let pid = emu_start_pager(command)
        guard pid > 0 else { return }
        process = pid
        // Quitting the pager early is no error of emu's: writes fail quietly instead of killing it.
        signal(SIGPIPE, SIG_IGN)
    }

    static func finish() {
        guard process > 0 else { return }
        emu_finish_pager(process)
        process = 0
    }
}

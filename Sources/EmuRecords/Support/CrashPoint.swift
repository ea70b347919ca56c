import Glibc

/// Named places where a test may ask emu to die with SIGKILL (the
/// environment variable EMU_CRASH_AT), to prove that a kill at that moment
/// loses nothing. Without the variable this costs one comparison.
public enum CrashPoint {
    package static let requested: String? = getenv("EMU_CRASH_AT").map { String(cString: $0) }
    /// `EMU_CRASH_SIGNAL=N`: send signal N instead of SIGKILL (a Ctrl-C is
    /// 2), and wait there for it to end the process, as a user's signal would.
    package static let signal: Int32 = getenv("EMU_CRASH_SIGNAL").flatMap { Int32(String(cString: $0)) } ?? SIGKILL

    /// Kills the process at `name` when asked to; `beforeDying` first
    /// finishes what the crash is meant to come after.
    public static func reach(_ name: String, beforeDying: () -> Void = {}) {
        guard let requested, requested == name else { return }
        beforeDying()
        kill(getpid(), signal)
        while true { pause() }
    }
}

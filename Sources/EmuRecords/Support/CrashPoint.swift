import Glibc

/// Named places where a test may ask emu to die with SIGKILL (the
/// environment variable EMU_CRASH_AT), to prove that a kill at that moment
/// loses nothing. Without the variable this costs one comparison.
public enum CrashPoint {
    package static let requested: String? = getenv("EMU_CRASH_AT").map { String(cString: $0) }

    /// Kills the process at `name` when asked to; `beforeDying` first
    /// finishes what the crash is meant to come after.
    public static func reach(_ name: String, beforeDying: () -> Void = {}) {
        guard let requested, requested == name else { return }
        beforeDying()
        kill(getpid(), SIGKILL)
    }
}

import Synchronization
import SystemPackage

/// The test seam of the POSIX layer: a call of one operation ("link",
/// "write", "create", ...) on a path below a prefix fails with a chosen
/// errno before the kernel is asked, as swift-system's mocking driver
/// does. Tests reach the archiver's, the checkout's and recovery's answers
/// to EMLINK, ENOSPC, EPERM or EIO through it, on real temporary
/// directories, without root or disk images. A rule names a test's own
/// directory, so tests running side by side do not see each other's faults.
/// Disarmed, it costs one relaxed atomic load per call.
@_spi(Testing) public enum InjectedFaults {
    public struct Rule: Sendable {
        public var operation: String
        public var pathPrefix: [UInt8]
        public var errno: Errno
        /// How many calls fail; nil for every one.
        public var remaining: Int?
    }

    private static let armedRules = Atomic<Int>(0)
    private static let rules = Mutex<[Int: Rule]>([:])
    private static let nextID = Atomic<Int>(1)

    static var areArmed: Bool { armedRules.load(ordering: .relaxed) > 0 }

    /// Runs `body` with the rule in force, and removes it afterwards.
    public static func failing<T>(
        _ operation: String, under pathPrefix: String, with errno: Errno, times: Int? = nil, _ body: () throws -> T
    ) rethrows -> T {
        let id = nextID.add(1, ordering: .relaxed).oldValue
        let rule = Rule(operation: operation, pathPrefix: pathPrefix.fileSystemBytes, errno: errno, remaining: times)
        rules.withLock { $0[id] = rule }
        armedRules.add(1, ordering: .relaxed)
        defer {
            rules.withLock { _ = $0.removeValue(forKey: id) }
            armedRules.subtract(1, ordering: .relaxed)
        }
        return try body()
    }

    /// The errno a rule gives this call, counting it against the rule.
    static func errno(for operation: String, path: [UInt8]) -> Errno? {
        rules.withLock { rules in
            for (id, rule) in rules where rule.operation == operation && path.starts(with: rule.pathPrefix) {
                if let remaining = rule.remaining {
                    guard remaining > 0 else { continue }
                    rules[id]!.remaining = remaining - 1
                }
                return rule.errno
            }
            return nil
        }
    }
}

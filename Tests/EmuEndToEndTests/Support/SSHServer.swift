import Foundation
import Glibc
import Testing

/// A real OpenSSH server on 127.0.0.1 for one test: `sshd -D -f CONFIG` as a
/// child, with a host key and a user key made here, stopped when the test
/// ends. `sshCommand` reaches it as the test's user, with nothing read from
/// or written to the machine's own ssh configuration.
final class SSHServer {
    let directory: String
    let port: Int
    /// Started with posix_spawn, not Foundation's Process, whose reaping of
    /// a long-lived child stalls the other children's waits.
    var pid: pid_t = 0
    var userKey: String { directory + "/user_key" }
    var authorizedKeys: String { directory + "/authorized_keys" }

    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") }

    init(in root: String) throws {
        directory = root + "/ssh"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        for key in ["host_key", "user_key"] {
            #expect(sh("ssh-keygen -q -t ed25519 -N '' -f '\(directory)/\(key)'") == 0)
        }
        port = Self.freePort()
        try """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(directory)/host_key
            AuthorizedKeysFile \(directory)/authorized_keys
            PidFile \(directory)/sshd.pid
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            PermitRootLogin prohibit-password
            LogLevel ERROR
            Subsystem sftp internal-sftp

            """.write(toFile: directory + "/sshd_config", atomically: true, encoding: .utf8)
        try authorize(forcedCommand: nil)
        let arguments = ["/usr/sbin/sshd", "-D", "-f", directory + "/sshd_config"]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&pid, arguments[0], nil, nil, argv, environ) == 0)
        waitUntilListening()
    }

    deinit {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// The user key may log in; with a forced command, only to run that.
    func authorize(forcedCommand: String?) throws {
        let key = try String(contentsOfFile: userKey + ".pub", encoding: .utf8)
        let line = forcedCommand.map { "command=\"\($0)\",no-pty \(key)" } ?? key
        try line.write(toFile: authorizedKeys, atomically: true, encoding: .utf8)
        chmod(authorizedKeys, 0o600)
    }

    /// A key of its own for one client, added to authorized_keys with its
    /// forced command, as an administrator sets up each machine; the ssh
    /// command that uses it.
    func clientKey(_ name: String, forcedCommand: String) throws -> String {
        let key = directory + "/key-" + name
        #expect(sh("ssh-keygen -q -t ed25519 -N '' -C '\(name)' -f '\(key)'") == 0)
        let line = "command=\"\(forcedCommand)\",no-pty,no-port-forwarding " + (try String(contentsOfFile: key + ".pub", encoding: .utf8))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: authorizedKeys))
        handle.seekToEndOfFile()
        handle.write(Data(line.utf8))
        try handle.close()
        return sshCommand.replacingOccurrences(of: "-i \(userKey)", with: "-o IdentitiesOnly=yes -i \(key)")
    }

    /// The ssh command a sink uses to reach this server.
    var sshCommand: String {
        "ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -i \(userKey)"
    }

    /// The ssh command through `scripts/slow-link.py`, which holds every
    /// chunk `delay` seconds each way and appends the bytes that crossed
    /// each way ("SENT RECEIVED", then " cut" if it cut the link) to
    /// `count`; with `cutAfter`, the link is cut once that many bytes crossed.
    func sshCommand(delay: Double, count: String, cutAfter: Int? = nil) throws -> String {
        let relay = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../scripts/slow-link.py").standardized.path
        let wrapper = directory + "/slow-link"
        let cut = cutAfter.map { " --cut-after \($0)" } ?? ""
        try "#!/bin/sh\nexec python3 '\(relay)' --delay \(delay) --count '\(count)'\(cut) 127.0.0.1 \(port)\n"
            .write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        return sshCommand + " -o ProxyCommand=\(wrapper)"
    }

    /// Whether a connection through the counting link of `count` was cut by it.
    static func wasCut(_ count: String) -> Bool {
        ((try? String(contentsOfFile: count, encoding: .utf8)) ?? "").split(separator: "\n").contains { $0.hasSuffix(" cut") }
    }

    /// The address of `path` on this server.
    func address(_ path: String) -> String { "ssh://\(NSUserName())@127.0.0.1:\(port)\(path)" }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits until the port takes connections (a minute at most: a bound
    /// against a hang, where sshd takes milliseconds).
    func waitUntilListening() {
        for _ in 0..<1200 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if connected == 0 { return }
            usleep(50_000)
        }
        Issue.record("sshd did not start on port \(port)")
    }
}

/// `count` byte offsets in `range` from a seeded generator (SplitMix64):
/// where a counting link cuts a connection, the same on every machine.
func seededOffsets(seed: UInt64, count: Int, in range: Range<Int>) -> [Int] {
    var state = seed
    return (0..<count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return range.lowerBound + Int((z ^ (z >> 31)) % UInt64(range.count))
    }
}

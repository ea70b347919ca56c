import EmuRecords

/// What a sink's path names, decided in this one place: a directory on
/// this machine, a sink over ssh, or text that reads as a remote address
/// emu cannot reach (another scheme, a host without a path), which is
/// refused rather than taken for a local directory named so.
public enum SinkLocation: Sendable, Equatable {
    case local(String)
    case ssh(RemoteAddress)
    case unreachable(String)

    public init(_ text: String) {
        if let address = RemoteAddress(parsing: text) {
            self = .ssh(address)
        } else {
            self = Self.looksRemote(text) ? .unreachable(text) : .local(text)
        }
    }

    /// `scheme://...`, `user@host:path` or `host:path` (a colon before any
    /// slash), as scp and git read them; a local name with a colon is written `./a:b`.
    package static func looksRemote(_ text: String) -> Bool {
        if text.hasPrefix("/") || text.hasPrefix(".") { return false }
        if let scheme = text.firstRange(of: "://"), text[..<scheme.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || "+.-".contains($0) }) {
            return true
        }
        guard let colon = text.firstIndex(of: ":") else { return false }
        return !text[..<colon].contains("/")
    }

    public var remote: RemoteAddress? {
        if case .ssh(let address) = self { address } else { nil }
    }
}

/// Where a remote sink lives: a machine reached with OpenSSH and a path
/// there. Written `ssh://[user@]host[:port]/path` (the path absolute) or
/// scp's `[user@]host:path` (a relative path is below the remote home).
public struct RemoteAddress: Sendable, Equatable {
    public var user: String?
    public var host: String
    public var port: Int?
    public var path: String

    /// Parses either form; nil for text that is neither (a local path).
    /// Local names with a colon are written `./a:b`, as scp wants them.
    public init?(parsing text: String) {
        if text.hasPrefix("ssh://") {
            let rest = text.dropFirst("ssh://".count)
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            guard let authority = Self.authority(String(rest[..<slash]), allowsPort: true) else { return nil }
            (user, host, port) = authority
            path = String(rest[slash...])
            return
        }
        // Another scheme's URL is not scp's form with a host named like the scheme.
        guard !text.hasPrefix("/"), !text.hasPrefix("."), !text.contains("://"), let colon = Self.hostColon(in: text) else { return nil }
        guard let authority = Self.authority(String(text[..<colon]), allowsPort: false) else { return nil }
        (user, host, port) = authority
        path = String(text[text.index(after: colon)...])
        guard !path.isEmpty else { return nil }
    }

    /// The colon that ends scp's host part: the first one before any slash
    /// (a bracketed IPv6 host keeps its own colons).
    package static func hostColon(in text: String) -> String.Index? {
        var inBrackets = false
        for index in text.indices {
            switch text[index] {
            case "[": inBrackets = true
            case "]": inBrackets = false
            case ":" where !inBrackets: return index
            case "/": return nil
            default: continue
            }
        }
        return nil
    }

    /// `[user@]host[:port]`, the host possibly `[v6]`.
    package static func authority(_ text: String, allowsPort: Bool) -> (String?, String, Int?)? {
        var rest = Substring(text)
        var user: String? = nil
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
            guard !user!.isEmpty else { return nil }
        }
        var port: Int? = nil
        if allowsPort, let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("]") {
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else { return nil }
            port = number
            rest = rest[..<colon]
        }
        if rest.hasPrefix("[") && rest.hasSuffix("]") { rest = rest.dropFirst().dropLast() }
        guard !rest.isEmpty, !rest.contains(where: { $0 == "/" || $0 == " " || $0 == "@" }) else { return nil }
        return (user, String(rest), port)
    }

    /// `user@host`, or `host`: what ssh takes as its destination.
    public var destination: String { user.map { "\($0)@\(host)" } ?? host }
    /// `ssh [-p PORT] DESTINATION`: how a user checks that the host can be reached, as emu reaches it.
    public var sshCommandLine: String { "ssh " + (port.map { "-p \($0) " } ?? "") + destination }

    /// The canonical text: an ssh URL for an absolute path, scp's form for a relative one.
    public var text: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        guard path.hasPrefix("/") else { return "\(user.map { "\($0)@" } ?? "")\(bracketed):\(path)" }
        return "ssh://\(user.map { "\($0)@" } ?? "")\(bracketed)\(port.map { ":\($0)" } ?? "")\(path)"
    }
}

extension SinkRegistration {
    /// Where the sink lives when it is on another machine; nil for a local path.
    public var remote: RemoteAddress? { SinkLocation(path).remote }
}

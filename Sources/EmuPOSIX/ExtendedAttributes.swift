import CEmuShims
import Glibc
import SystemPackage

/// Where extended attributes are read or written: an open regular file or
/// directory, or an entry reached by name (through /proc/self/fd) for
/// symlinks and devices, which cannot be opened for I/O.
public enum AttributeTarget {
    case file(OpenFile)
    case entry(DirectoryHandle, FileName)

    var path: [UInt8] {
        switch self {
        case .file(let file): file.path
        case .entry(let directory, let name): directory.childPath(name)
        }
    }

    var origin: Origin {
        switch self {
        case .file(let file): file.origin
        case .entry(let directory, _): directory.origin
        }
    }

    /// Runs one of the call pairs (f...xattr on a descriptor, l...xattr on
    /// a path): its failure names the entry.
    func call(_ operation: String, descriptor: (Int32) -> Int, path: (UnsafePointer<CChar>) -> Int) -> Result<Int, FileSystemError> {
        systemCall(operation, self.path, origin) {
            switch self {
            case .file(let file): descriptor(file.fd)
            case .entry(let directory, let name): directory.procPath(name).withCString { path($0) }
            }
        }
    }
}

/// One extended attribute: its name and its value, both raw bytes.
public struct ExtendedAttribute: Hashable, Sendable {
    public var name: [UInt8]
    public var value: [UInt8]

    public init(name: [UInt8], value: [UInt8]) {
        self.name = name
        self.value = value
    }

    /// The names that hold POSIX ACLs; libacl copies those.
    public static let accessACL = Array("system.posix_acl_access".utf8)
    public static let defaultACL = Array("system.posix_acl_default".utf8)

    public var isACL: Bool { name == Self.accessACL || name == Self.defaultACL }
}

/// Extended attributes through libattr's rules: what /etc/xattr.conf says to
/// skip is neither read nor copied, ACLs are left to `AccessControlList`.
public enum ExtendedAttributes {
    /// The names of every attribute (ACL ones included), sorted by bytes.
    public static func names(of target: AttributeTarget) throws -> [[UInt8]] {
        let raw = try growingRead("list attributes of", target) { buffer, capacity in
            target.call("list attributes of", descriptor: { flistxattr($0, buffer, capacity) }, path: { llistxattr($0, buffer, capacity) })
        }
        return raw.split(separator: 0).map { Array($0) }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// The value of one attribute.
    public static func value(of name: [UInt8], target: AttributeTarget) throws -> [UInt8] {
        try growingRead("read attribute of", target) { buffer, capacity in
            name.withCString { n in
                target.call("read attribute of", descriptor: { fgetxattr($0, n, buffer, capacity) }, path: { lgetxattr($0, n, buffer, capacity) })
            }
        }
    }

    /// Every attribute a snapshot keeps, sorted by name: xattr.conf's skips
    /// are left out, ACLs are in (as raw values, for comparing).
    public static func read(_ target: AttributeTarget) throws -> [ExtendedAttribute] {
        var result: [ExtendedAttribute] = []
        for name in try names(of: target) {
            let attribute = ExtendedAttribute(name: name, value: [])
            guard attribute.isACL || shouldCopy(name) else { continue }
            do {
                result.append(ExtendedAttribute(name: name, value: try value(of: name, target: target)))
            } catch let error as FileSystemError where error.errno == .noData {
                continue  // removed between list and get
            }
        }
        return result
    }

    /// Sets the attributes on `target`: the plain ones, and the raw ACL ones
    /// only when asked (ACLs normally go through `AccessControlList`).
    public static func write(_ attributes: [ExtendedAttribute], to target: AttributeTarget, includingACLs: Bool = false) throws {
        for attribute in attributes where includingACLs || !attribute.isACL {
            _ = try attribute.name.withCString { n in
                attribute.value.withUnsafeBytes { v in
                    target.call("set attribute \(Printable.path(attribute.name)) of",
                                descriptor: { Int(fsetxattr($0, n, v.baseAddress, v.count, 0)) },
                                path: { Int(lsetxattr($0, n, v.baseAddress, v.count, 0)) })
                }
            }.get()
        }
    }

    /// Removes the attributes a snapshot would keep (ACLs included) that are
    /// not named in `keeping`: what mending an existing entry's metadata
    /// must take away. An attribute already gone is no error.
    public static func removeOthers(keeping: [ExtendedAttribute], from target: AttributeTarget) throws {
        let kept = Set(keeping.map(\.name))
        for name in try names(of: target) where !kept.contains(name) {
            let attribute = ExtendedAttribute(name: name, value: [])
            guard attribute.isACL || shouldCopy(name) else { continue }
            let result = name.withCString { n in
                target.call("remove attribute \(Printable.path(name)) of",
                            descriptor: { Int(fremovexattr($0, n)) }, path: { Int(lremovexattr($0, n)) })
            }
            if case .failure(let error) = result, error.errno == .noData { continue }
            _ = try result.get()
        }
    }

    /// Whether /etc/xattr.conf (through libattr) lets this attribute be copied.
    public static func shouldCopy(_ name: [UInt8]) -> Bool {
        name.withCString { emu_xattr_should_copy($0) } != 0
    }

    /// Calls a list/get function with a growing buffer: it can answer ERANGE
    /// when the value grew between the size query and the read.
    static func growingRead(
        _ operation: String, _ target: AttributeTarget,
        _ call: (UnsafeMutablePointer<CChar>?, Int) -> Result<Int, FileSystemError>
    ) throws -> [UInt8] {
        var capacity = 1024
        while true {
            var tooSmall = false
            let bytes = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                let pointer = UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                switch call(pointer, capacity) {
                case .success(let n): count = n
                case .failure(let error) where error.errno == .outOfRange: count = 0; tooSmall = true
                case .failure(let error) where error.errno == .notSupported: count = 0
                case .failure(let error): throw error
                }
            }
            if !tooSmall { return bytes }
            let needed = (try? call(nil, 0).get()) ?? 0
            capacity = max(capacity * 2, needed + 64)
            if capacity > 64 << 20 { throw FileSystemError(operation, target.path, .outOfRange, origin: target.origin) }
        }
    }
}

/// POSIX ACLs through libacl.
public enum AccessControlList {
    /// Copies the access ACL (and a directory's default ACL) from one open
    /// entry to another; call after setting the mode, which it refines.
    public static func copy(from source: OpenFile, to destination: OpenFile, hasAccess: Bool, hasDefault: Bool) throws {
        if hasAccess {
            _ = try destination.call("copy ACL of") { emu_acl_copy_access_fd(source.fd, destination.fd) }.get()
        }
        if hasDefault {
            _ = try destination.call("copy default ACL of") {
                source.procPath.withCString { s in destination.procPath.withCString { emu_acl_copy_default(s, $0) } }
            }.get()
        }
    }

    /// The short text form of an access ACL ("u::rw-,u:1000:r--,..."), for tests and display.
    public static func accessText(_ file: OpenFile) throws -> String {
        guard let text = emu_acl_access_text(file.fd) else { throw file.failure("read ACL of", Errno(rawValue: errno)) }
        defer { free(text) }
        return String(cString: text)
    }

    /// The ACL of `file` (its access ACL, or a directory's default one) in the
    /// long form with numeric ids and commas, as tar's SCHILY.acl keys hold it.
    public static func archiveText(_ file: OpenFile, isDefault: Bool) throws -> String {
        guard let text = file.procPath.withCString({ emu_acl_archive_text($0, isDefault ? 1 : 0) }) else {
            throw file.failure("read ACL of", Errno(rawValue: errno))
        }
        defer { free(text) }
        return String(cString: text)
    }

    /// The short text form of a directory's default ACL ("" when it has none).
    public static func defaultText(_ directory: OpenFile) throws -> String {
        guard let text = directory.procPath.withCString({ emu_acl_default_text($0) }) else {
            throw directory.failure("read default ACL of", Errno(rawValue: errno))
        }
        defer { free(text) }
        return String(cString: text)
    }

    /// Sets an access ACL from its text form.
    public static func setAccess(_ text: String, on file: OpenFile) throws {
        _ = try file.call("set ACL of") { emu_acl_set_access_text(file.fd, text) }.get()
    }

    /// Sets a directory's default ACL from its text form.
    public static func setDefault(_ text: String, on directory: OpenFile) throws {
        _ = try directory.call("set default ACL of") { directory.procPath.withCString { emu_acl_set_default_text($0, text) } }.get()
    }
}

extension OpenFile {
    /// A path through /proc naming this file, for libacl calls that take only paths.
    var procPath: [UInt8] { Array("/proc/self/fd/\(fd)".utf8) }
}

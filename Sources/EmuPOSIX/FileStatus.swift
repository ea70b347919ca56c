import CEmuShims
import Glibc

/// The type of a filesystem entry.
public enum FileKind: UInt8, Sendable {
    case regular, directory, symlink, fifo, characterDevice, blockDevice, socket, unknown

    init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symlink
        case S_IFIFO: self = .fifo
        case S_IFCHR: self = .characterDevice
        case S_IFBLK: self = .blockDevice
        case S_IFSOCK: self = .socket
        default: self = .unknown
        }
    }

    /// The S_IFMT bits for mknod(2).
    var typeBits: mode_t {
        switch self {
        case .regular: S_IFREG
        case .directory: S_IFDIR
        case .symlink: S_IFLNK
        case .fifo: S_IFIFO
        case .characterDevice: S_IFCHR
        case .blockDevice: S_IFBLK
        case .socket: S_IFSOCK
        case .unknown: 0
        }
    }
}

/// A point in time with nanoseconds, as the kernel keeps mtime and ctime.
public struct FileTime: Hashable, Comparable, Sendable {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    init(_ spec: timespec) {
        self.init(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }

    var timespec: Glibc.timespec { Glibc.timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds)) }

    public static func < (a: FileTime, b: FileTime) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }
}

/// What lstat(2) says of one entry: the fields a snapshot keeps or compares.
public struct FileStatus: Sendable, Equatable {
    public var kind: FileKind
    /// Permission bits with setuid, setgid and sticky (mode & 07777).
    public var permissions: UInt32
    public var owner: UInt32
    public var group: UInt32
    public var size: Int64
    public var modified: FileTime
    public var changed: FileTime
    public var inode: UInt64
    public var device: UInt64
    public var linkCount: UInt64
    /// The device number a character or block device stands for.
    public var deviceNumber: UInt64
    /// 512-byte blocks allocated: fewer than the size needs means holes.
    public var blocks: Int64

    init(_ st: stat) {
        kind = FileKind(mode: st.st_mode)
        permissions = UInt32(st.st_mode & 0o7777)
        owner = st.st_uid
        group = st.st_gid
        size = Int64(st.st_size)
        modified = FileTime(st.st_mtim)
        changed = FileTime(st.st_ctim)
        inode = UInt64(st.st_ino)
        device = UInt64(st.st_dev)
        linkCount = UInt64(st.st_nlink)
        deviceNumber = UInt64(st.st_rdev)
        blocks = Int64(st.st_blocks)
    }

    public var isSparse: Bool { blocks * 512 < size }

    /// A status known without asking the kernel (what a record says of an
    /// entry nothing has touched since).
    public init(kind: FileKind, permissions: UInt32, owner: UInt32, group: UInt32, size: Int64, modified: FileTime, changed: FileTime,
                inode: UInt64, device: UInt64, linkCount: UInt64, deviceNumber: UInt64, blocks: Int64) {
        self.kind = kind
        self.permissions = permissions
        self.owner = owner
        self.group = group
        self.size = size
        self.modified = modified
        self.changed = changed
        self.inode = inode
        self.device = device
        self.linkCount = linkCount
        self.deviceNumber = deviceNumber
        self.blocks = blocks
    }
}

/// A device number split as mknod(2) wants it.
public struct DeviceNumber: Hashable, Sendable {
    public var major: UInt32
    public var minor: UInt32

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }

    public init(_ raw: UInt64) {
        major = emu_major(dev_t(raw))
        minor = emu_minor(dev_t(raw))
    }

    public var raw: UInt64 { UInt64(emu_makedev(major, minor)) }
}

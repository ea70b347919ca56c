import EmuCore
import EmuPOSIX
import EmuRecords
import EmuRemote

// The documents `--json` prints, one type per command (schema: emu(1),
// JSON OUTPUT). A key whose value is unknown or does not apply is left out.

/// `emu log --json`, `emu prune --json`, `emu squash --json`.
struct SnapshotListJSON: Encodable {
    var snapshots: [SnapshotJSON]
    var dryRun: Bool?
}

/// `emu sink --json`: one entry per registered sink.
struct SinkListJSON: Encodable {
    var sinks: [SinkJSON]
}

struct SinkJSON: Encodable {
    var sink: String
    var path: String
    var pathBytes: String?
    var online: Bool
    var `default`: Bool
    var snapshots: Int?
    var newest: SnapshotJSON?
    var freeBytes: Int64?
    var totalBytes: Int64?
    /// As in `status`: how much older its newest snapshot of this source is than the newest on any sink.
    var behindSeconds: Int64?
    /// As in `status`: for each other online sink, how many of its snapshots this one lacks (an online sink only).
    var lacks: [String: Int]?

    init(_ registration: SinkRegistration, online: Bool, isDefault: Bool) {
        sink = registration.name
        (path, pathBytes) = JSONName(userPath: registration.path).fields
        self.online = online
        self.default = isDefault
    }
}

/// `emu status --json`.
struct StatusJSON: Encodable {
    var sinks: [SinkStatusJSON]
    /// What `--check` judges: true when no sink has a problem.
    var ok: Bool
}

struct SinkStatusJSON: Encodable {
    var sink: String
    var path: String
    var pathBytes: String?
    var online: Bool
    var snapshots: Int?
    var newest: SnapshotJSON?
    var ageSeconds: Int64?
    var changes: ChangeCountsJSON?
    /// How much older this sink's newest snapshot is than the newest on any
    /// sink (0: it holds the newest); an offline sink's from `lastPushed`.
    var behindSeconds: Int64?
    var holdsNewest: Bool?
    /// For each other online sink, how many of its snapshots this one lacks
    /// (`emu replicate OTHER THIS` copies them); online sinks only.
    var lacks: [String: Int]?
    /// An offline sink: the date of the newest snapshot this source pushed to it.
    var lastPushed: String?
    /// The newest snapshot `emu verify` found damaged, whatever the first problem is.
    var damaged: SnapshotJSON? = nil
    /// ok, offline, empty, stale, damaged or failed (the first problem found).
    var state: String
    var reason: String?
}

/// `emu push --json`: one entry per sink the push was for.
struct PushListJSON: Encodable {
    var pushes: [PushJSON]
}

struct PushJSON: Encodable {
    var sink: String
    var online: Bool
    var dryRun: Bool
    var snapshot: SnapshotJSON?
    var files: Int?
    var directories: Int?
    var bytes: Int64?
    var filesCopied: Int?
    var filesLinked: Int?
    var bytesCopied: Int64?
    var skipped: Int?
    var expired: [SnapshotJSON]?
    /// `--skip-if-unchanged` made no snapshot: the newest, which holds the source as it is.
    var unchangedSince: SnapshotJSON?
    var error: String?
}

/// `emu verify --json`: every snapshot checked, with what was wrong in it.
struct VerifyJSON: Encodable {
    var snapshots: [VerifiedSnapshotJSON]
    var indexes: [VerifiedIndexJSON]
    var filesRead: Int
    var bytesRead: Int64
    var clean: Bool
}

struct VerifiedSnapshotJSON: Encodable {
    var snapshot: SnapshotJSON
    var damage: [DamageJSON]
    /// Why it could not be verified at all, when it could not.
    var notVerified: String?
}

struct VerifiedIndexJSON: Encodable {
    var sink: String
    var problems: Int
    var unheld: Int
    var damage: [DamageJSON]
}

struct DamageJSON: Encodable {
    var kind: String
    var path: String
    var pathBytes: String?
    var detail: String

    init(_ damage: Damage) {
        kind = damage.kind.rawValue
        (path, pathBytes) = JSONName(damage.path).fields
        detail = damage.detail
    }
}

/// `emu show REF:PATH --json`: the entry, and a directory's children.
struct ShowEntryJSON: Encodable {
    var snapshot: SnapshotJSON
    var entry: EntryJSON
    var entries: [EntryJSON]?
}

struct EntryJSON: Encodable {
    var path: String
    var pathBytes: String?
    var type: String
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var size: Int64
    var mtime: String
    var target: String?
    var targetBytes: String?

    init(_ record: ManifestRecord, type: String) {
        (path, pathBytes) = JSONName(record.path).fields
        self.type = type
        mode = record.permissions
        uid = record.owner
        gid = record.group
        size = record.size
        mtime = Timestamp(seconds: record.modified.seconds).iso8601
        if let raw = record.symlinkTarget { (target, targetBytes) = JSONName(raw).fields }
    }
}

/// `emu checkout --json`.
struct CheckoutJSON: Encodable {
    var snapshot: SnapshotJSON
    var target: String
    var targetBytes: String?
    var dryRun: Bool
    var filesWritten: Int
    var bytesWritten: Int64
    var metadataMended: Int
    var removed: Int
}

/// `emu clean --json`: what was (or would be) done in each sink.
struct CleanJSON: Encodable {
    var sinks: [CleanedSinkJSON]
}

struct CleanedSinkJSON: Encodable {
    var sink: String
    var online: Bool
    var dryRun: Bool
    var actions: [String]
}

/// `emu config --list --json`; `emu config KEY --json` prints one of its entries.
struct SettingListJSON: Encodable {
    var settings: [SettingJSON]
}

struct SettingJSON: Encodable {
    var key: String
    var value: String
    /// source, sink NAME, or default.
    var origin: String
    var sink: String?
}

/// `emu config KEY VALUE --json` (or `--unset`).
struct ConfigChangeJSON: Encodable {
    var change: String
    var dryRun: Bool
    var sink: String?
    /// A sink's retention policy after the change, in words.
    var policy: String?
    /// How many existing snapshots the new policy expires that the old one kept.
    var wouldExpire: Int?
}

/// `emu replicate --json`: the snapshots copied (or that would be), each
/// with what its copy sent; those TO held already are counted, not listed.
struct ReplicateJSON: Encodable {
    struct Copied: Encodable {
        var snapshot: SnapshotJSON
        var files: Int?
        var filesUnchanged: Int?
        var filesSent: Int?
        var bytesSent: Int64?
    }

    var from: String
    var to: String
    var dryRun: Bool
    var snapshots: [Copied]
    var alreadyHeld: Int
    /// Left out: TO holds another snapshot of the same second.
    var sameSecond: [SnapshotJSON]
    var leftToPolicy: [SnapshotJSON]
    var expired: [SnapshotJSON]
    /// A dry run's upper bound of what would be read and sent.
    var filesToSend: Int?
    var bytesToSend: Int64?

    init(_ result: ReplicateResult, from: String, to: String, dryRun: Bool) {
        (self.from, self.to, self.dryRun) = (from, to, dryRun)
        snapshots = result.copied.enumerated().map { index, snapshot in
            let counts = index < result.counts.count ? result.counts[index] : nil
            return Copied(snapshot: SnapshotJSON(snapshot, sink: to), files: counts?.files, filesUnchanged: counts?.linked,
                          filesSent: counts?.filesSent, bytesSent: counts?.bytesSent)
        }
        alreadyHeld = result.alreadyHeld
        sameSecond = result.sameSecond.map { SnapshotJSON($0, sink: from) }
        leftToPolicy = result.leftToPolicy.map { SnapshotJSON($0, sink: from) }
        expired = result.expired.map { SnapshotJSON($0, sink: to) }
        (filesToSend, bytesToSend) = dryRun ? (result.filesToSend, result.bytesToSend) : (nil, nil)
    }
}

/// `emu import --json`: each backup folder, the snapshot it became (or
/// already was), and what its import linked and copied.
struct ImportJSON: Encodable {
    var sink: String
    var dryRun: Bool
    var backups: [ImportedJSON]
}

struct ImportedJSON: Encodable {
    var path: String
    var snapshot: SnapshotJSON?
    var alreadyImported: Bool?
    var files: Int?
    var filesLinked: Int?
    var filesCopied: Int?
    var bytesCopied: Int64?
}

/// `emu schedule status --json`: the timer, and whether each sink's last push failed.
struct ScheduleStatusJSON: Encodable {
    var timer: String
    var systemd: Bool
    var enabled: String?
    var active: String?
    var next: String?
    var last: String?
    var sinks: [ScheduledSinkJSON]
}

struct ScheduledSinkJSON: Encodable {
    var sink: String
    var lastPushFailed: String?
}

/// `emu serve --root DIR --report --json`: each client's sink under DIR.
struct RootReportJSON: Encodable {
    var root: String
    var clients: [ClientJSON]
}

struct ClientJSON: Encodable {
    var client: String
    var snapshots: Int
    var newest: SnapshotJSON?
    var bytesOnlyHere: Int64
}

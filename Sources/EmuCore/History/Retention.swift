import EmuPOSIX
import Glibc
import EmuRecords

/// Which snapshots a sink keeps, restic style: the newest `keepLast`; the
/// newest snapshot in each of the most recent N hours, days, ISO weeks,
/// months and years that have one (calendar buckets in local time, year
/// included); everything within `keepWithin` of the newest snapshot. The
/// newest is always kept. `maxNumber` (emu 0.2.5) caps the count, and
/// `minFreePercent` removes the oldest while the sink's filesystem is fuller.
public struct RetentionPolicy: Sendable, Equatable {
    /// A count of buckets; nil: the rule is off; `unlimited`: every bucket.
    public var keepLast: Int?
    public var keepHourly: Int?
    public var keepDaily: Int?
    public var keepWeekly: Int?
    public var keepMonthly: Int?
    public var keepYearly: Int?
    /// Seconds.
    public var keepWithin: Int64?
    public var minFreePercent: Double?
    public var maxNumber: Int?
    /// Removing snapshots for free space (min-free, a full disk) never
    /// leaves fewer than this many: a disk that other data fills must not
    /// cost the history.
    public var minKeep = RetentionPolicy.defaultMinKeep

    public static let defaultMinKeep = 3

    public static let unlimited = Int.max

    public init() {}

    /// emu 0.3's rotation: every snapshot of the last 24 hours, the newest of
    /// each day for 31 days, the newest of each week before that, and the
    /// oldest removed while the sink has less than 5% free.
    public static let standard: RetentionPolicy = {
        var p = RetentionPolicy()
        p.keepWithin = 24 * 3600
        p.keepDaily = 31
        p.keepWeekly = unlimited
        p.minFreePercent = 5
        return p
    }()

    package var hasNoRuleButMaxNumber: Bool {
        keepLast == nil && keepHourly == nil && keepDaily == nil && keepWeekly == nil && keepMonthly == nil
            && keepYearly == nil && keepWithin == nil
    }

    public var keepsEverything: Bool {
        keepLast == nil && keepHourly == nil && keepDaily == nil && keepWeekly == nil && keepMonthly == nil
            && keepYearly == nil && keepWithin == nil && maxNumber == nil
    }

    package static let keys = ["keep-last", "keep-hourly", "keep-daily", "keep-weekly", "keep-monthly", "keep-yearly", "keep-within", "min-free",
                       "min-keep"]

    /// How the user sets a value where a bad one was found: an example
    /// value becomes `--keep-daily 7`, or `emu config --sink usb retention.keep-daily 7`.
    public typealias Spelling = (_ example: String) -> String

    /// The policy a sink's config sets: its `[Retention]` keys and emu
    /// 0.2.5's `[Snapshots] max-number`; the standard policy when it sets none.
    /// `sink` names it in the fix for a value that does not parse.
    public init(config: INIDocument, sink: String? = nil) throws {
        func spelled(_ key: String) -> Spelling? { sink.map { sink in { "`emu config --sink \(shellQuoted(sink)) \(key) \($0)`" } } }
        func count(_ key: String) throws -> Int? {
            guard let text = config["Retention", key] else { return nil }
            return try Self.parseCount(text, option: "retention." + key, spelled: spelled("retention." + key))
        }
        keepLast = try count("keep-last")
        keepHourly = try count("keep-hourly")
        keepDaily = try count("keep-daily")
        keepWeekly = try count("keep-weekly")
        keepMonthly = try count("keep-monthly")
        keepYearly = try count("keep-yearly")
        keepWithin = try config["Retention", "keep-within"].map { try Self.parseDuration($0, spelled: spelled("retention.keep-within")) }
        minFreePercent = try config["Retention", "min-free"].map { try Self.parsePercent($0, spelled: spelled("retention.min-free")) }
        maxNumber = try config["Snapshots", "max-number"].map { try Self.parseCount($0, option: "snapshots.max-number", spelled: spelled("snapshots.max-number")) }
        if keepsEverything && minFreePercent == nil && config["Retention", "keep-all"] == nil { self = .standard }
        if let minKeep = try count("min-keep") { self.minKeep = max(minKeep, 1) }
    }

    /// `N`, or `all`/`unlimited` for every bucket.
    public static func parseCount(_ text: String, option: String, spelled: Spelling? = nil) throws -> Int {
        let trimmed = text.trimmingWhitespace().lowercased()
        if trimmed == "all" || trimmed == "unlimited" || trimmed == "-1" { return unlimited }
        guard let n = Int(trimmed), n >= 0 else {
            throw EmuError.usage("\(option) takes a count or 'all', not '\(text)'", fix: "give a count, e.g. " + (spelled?("7") ?? "\(option) 7"))
        }
        return n
    }

    /// `90m`, `36h`, `7d`, `2w`, `6m` is months only as `6mo`, `1y`; a bare number is days.
    public static func parseDuration(_ text: String, spelled: Spelling? = nil) throws -> Int64 {
        let trimmed = text.trimmingWhitespace().lowercased()
        let units: [(String, Int64)] = [("mo", 30 * 86400), ("min", 60), ("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]
        for (suffix, seconds) in units where trimmed.hasSuffix(suffix) {
            if let n = Int64(trimmed.dropLast(suffix.count)), n >= 0, case let (total, false) = n.multipliedReportingOverflow(by: seconds) {
                return total
            }
        }
        if let days = Int64(trimmed), days >= 0, case let (total, false) = days.multipliedReportingOverflow(by: 86400) { return total }
        throw EmuError.usage("'\(text)' is not a duration", fix: "give a number with a unit (36h, 7d, 2w, 6mo, 1y)" + (spelled.map { ", e.g. " + $0("7d") } ?? ""))
    }

    public static func parsePercent(_ text: String, spelled: Spelling? = nil) throws -> Double {
        let trimmed = text.trimmingWhitespace().replacingPercent()
        guard let value = Double(trimmed), value >= 0, value < 100 else {
            throw EmuError.usage("'\(text)' is not a percentage", fix: "give a number from 0 to 99, e.g. " + (spelled?("5") ?? "5"))
        }
        return value
    }

    /// Writes the policy into a sink's config.
    public func write(into config: inout INIDocument) {
        func count(_ n: Int?) -> String? { n.map { $0 == Self.unlimited ? "all" : String($0) } }
        config["Retention", "keep-last"] = count(keepLast)
        config["Retention", "keep-hourly"] = count(keepHourly)
        config["Retention", "keep-daily"] = count(keepDaily)
        config["Retention", "keep-weekly"] = count(keepWeekly)
        config["Retention", "keep-monthly"] = count(keepMonthly)
        config["Retention", "keep-yearly"] = count(keepYearly)
        config["Retention", "keep-within"] = keepWithin.map { "\($0 / 3600)h" }
        config["Retention", "min-free"] = minFreePercent.map { String($0) }
        config["Retention", "min-keep"] = minKeep == Self.defaultMinKeep ? nil : String(minKeep)
    }
}

/// What a policy says of one snapshot: the rules that keep it, or none.
public struct RetentionDecision: Sendable {
    public var snapshot: Snapshot
    public var reasons: [String]
    public var keep: Bool { !reasons.isEmpty }
}

extension RetentionPolicy {
    /// Decides every snapshot (oldest first in, newest first out). A
    /// snapshot dated after `now` (plus the clocks' skew) is kept and counts
    /// for nothing: the rules measure from the newest snapshot that is not
    /// in the future, so a forged or mistyped date cannot expire real history.
    public func decide(_ snapshots: [Snapshot], now: Timestamp = .now()) -> [RetentionDecision] {
        let latest = now.seconds + Timestamp.futureSkew
        let future = snapshots.filter { $0.date.seconds > latest }.sorted { ($0.date, $0.id) > ($1.date, $1.id) }
        return future.map { RetentionDecision(snapshot: $0, reasons: ["dated in the future"]) }
            + decidePresent(snapshots.filter { $0.date.seconds <= latest })
    }

    package func decidePresent(_ snapshots: [Snapshot]) -> [RetentionDecision] {
        let newestFirst = snapshots.sorted { ($0.date, $0.id) > ($1.date, $1.id) }
        var decisions = newestFirst.map { RetentionDecision(snapshot: $0, reasons: []) }
        guard !decisions.isEmpty else { return [] }
        if keepsEverything {
            return decisions.map { RetentionDecision(snapshot: $0.snapshot, reasons: ["keep-all"]) }
        }
        decisions[0].reasons.append("newest")
        if let keepLast {
            for i in decisions.indices where i < keepLast { decisions[i].reasons.append("last \(keepLast)") }
        }
        let buckets: [(String, Int?, (Timestamp) -> String)] = [
            ("hourly", keepHourly, { $0.bucket(.hour) }), ("daily", keepDaily, { $0.bucket(.day) }),
            ("weekly", keepWeekly, { $0.bucket(.week) }), ("monthly", keepMonthly, { $0.bucket(.month) }),
            ("yearly", keepYearly, { $0.bucket(.year) }),
        ]
        for (name, limit, key) in buckets {
            guard let limit else { continue }
            var seen = 0
            var last: String? = nil
            for i in decisions.indices where seen < limit {
                let bucket = key(decisions[i].snapshot.date)
                if bucket != last {
                    decisions[i].reasons.append("\(name) \(bucket)")
                    last = bucket
                    seen += 1
                }
            }
        }
        if let keepWithin {
            let horizon = newestFirst[0].date.seconds - keepWithin
            for i in decisions.indices where decisions[i].snapshot.date.seconds >= horizon {
                decisions[i].reasons.append("within \(keepWithin / 3600)h of the newest")
            }
        }
        if let maxNumber {
            let cap = max(maxNumber, 1)
            if hasNoRuleButMaxNumber {
                // emu 0.2.5's only rule: the newest N.
                for i in decisions.indices where i < cap { decisions[i].reasons.append("max-number \(maxNumber)") }
            } else {
                // With other rules: at most N of what they keep, the oldest dropped first.
                var kept = 0
                for i in decisions.indices where decisions[i].keep {
                    kept += 1
                    if kept > cap { decisions[i].reasons = [] }
                }
            }
        }
        return decisions
    }
}

extension Timestamp {
    package enum Bucket { case hour, day, week, month, year }

    /// The calendar bucket (local time, year included) a moment falls in.
    package func bucket(_ size: Bucket) -> String {
        var t = localTime
        func pad(_ v: Int32, _ w: Int = 2) -> String { String(repeating: "0", count: max(0, w - String(v).count)) + String(v) }
        switch size {
        case .hour: return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1))-\(pad(t.tm_mday)) \(pad(t.tm_hour))h"
        case .day: return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1))-\(pad(t.tm_mday))"
        case .month: return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1))"
        case .year: return pad(t.tm_year + 1900, 4)
        case .week:
            // Named by the ISO week's Monday, which carries its own year.
            t.tm_mday -= (t.tm_wday + 6) % 7
            t.tm_hour = 12
            t.tm_isdst = -1
            var monday = mktime(&t)
            var m = tm()
            localtime_r(&monday, &m)
            return "week of \(pad(m.tm_year + 1900, 4))-\(pad(m.tm_mon + 1))-\(pad(m.tm_mday))"
        }
    }
}

extension String {
    package func replacingPercent() -> String { hasSuffix("%") ? String(dropLast()) : self }
}

extension Sink {
    public func config() throws -> INIDocument {
        guard let text = try MetadataFile.read(in: metadata, SinkLayout.config) else { return INIDocument() }
        return try INIDocument(parsing: text)
    }

    public func writeConfig(_ document: INIDocument) throws {
        try MetadataFile.write(in: metadata, SinkLayout.config, document.text)
    }

    public func retentionPolicy() throws -> RetentionPolicy {
        try RetentionPolicy(config: try config(), sink: name)
    }

    /// The share of the sink's filesystem that is free, in percent.
    package var freePercent: Double? {
        guard let space = space(), space.total > 0 else { return nil }
        return Double(space.free) * 100 / Double(space.total)
    }
}

extension RetentionPolicy {
    /// The bytes to free until `percent` of the filesystem is free and `needed` more: none when 0 or less.
    package static func roomWanted(percent: Double, needed: Int64, space: (free: Int64, total: Int64)) -> Int64 {
        Int64(percent / 100 * Double(space.total)) + needed - space.free
    }
}

/// Applies a policy to a sink (exclusive lock held): expired snapshots are
/// deleted (each vanishes in one rename), never the newest nor `protected`;
/// then min-free (see `freeSpace`). Returns what was deleted; `warn` hears
/// why min-free removed nothing.
public func applyRetention(_ policy: RetentionPolicy, to sink: any SinkStore, among listed: [Snapshot]? = nil, protecting protected: String?,
                           dryRun: Bool, warn: (String) -> Void = { _ in }, each: (Snapshot, [String]) -> Void) throws -> [Snapshot] {
    let snapshots = try listed ?? sink.snapshots()
    var deleted: [Snapshot] = []
    for decision in policy.decide(snapshots).reversed() where !decision.keep && decision.snapshot.id != protected {
        if !dryRun { try sink.delete(decision.snapshot) }
        deleted.append(decision.snapshot)
        each(decision.snapshot, ["expired: no rule keeps it"])
    }
    if let minFree = policy.minFreePercent, !dryRun {
        let remaining = snapshots.filter { s in !deleted.contains { $0.id == s.id } }
        deleted += try sink.freeSpace(percent: minFree, bytes: 0, policy: policy, among: remaining, protecting: protected,
                                      warn: warn, each: each)
    }
    if !deleted.isEmpty && !dryRun { try sink.finishDeleting() }
    return deleted
}

/// Retention after a push. A command reading the sink (diff, verify, a
/// checkout) postpones it to the next push: the new snapshot is safe, and
/// deleting a tree under a reader is not. `listed`: the sink's snapshots
/// after the push, when already known (nil: asked).
package func rotateAfterPush(_ policy: RetentionPolicy, _ sink: any SinkStore, among listed: [Snapshot]? = nil, protecting protected: String,
                             observer: PushObserver) throws -> [Snapshot] {
    do {
        return try applyRetention(policy, to: sink, among: listed, protecting: protected, dryRun: false, warn: observer.warned) { observer.expired($0, $1) }
    } catch let error as EmuError where error.kind == .locked {
        observer.warned("the retention policy waits for the next push: \(error.message)")
        return []
    }
}

extension Sink {
    /// Removes the oldest snapshots until the filesystem has `percent` free
    /// and `bytes` more, but only when that can work: never below the
    /// policy's min-keep, never `protected`, and nothing at all when even
    /// every bytes emu stores here could not make the room (the disk is
    /// full of other data, or the push is larger than the disk): then `warn`
    /// says so and nothing is removed. Returns what was deleted.
    public func freeSpace(percent: Double, bytes needed: Int64, policy: RetentionPolicy, among snapshots: [Snapshot],
                   protecting protected: String?, warn: (String) -> Void, each: (Snapshot, [String]) -> Void) throws -> [Snapshot] {
        // Freed blocks show in statvfs only once the journal commits: sync
        // before each measure, or every deletion looks useless and the next follows.
        try root.file.syncFileSystem()
        guard let space = space(), space.total > 0 else { return [] }
        let wanted = RetentionPolicy.roomWanted(percent: percent, needed: needed, space: space)
        guard wanted > 0 else { return [] }
        // The floor counts the new snapshot; a push that does not fit has none yet, and never removes the only one.
        var removable = snapshots.filter { $0.id != protected }
        let floor = needed > 0 ? max(policy.minKeep - 1, 1) : max(policy.minKeep - (snapshots.count - removable.count), 0)
        removable.removeLast(min(removable.count, floor))
        // At most what the sink stores less what the snapshots that stay hold.
        let staying = snapshots.filter { s in !removable.contains { $0.id == s.id } }
        let stored = try ContentIndex.open(in: self).storedBytes() - (staying.map(\.counts.bytes).max() ?? 0)
        let what = needed > 0 ? "the new snapshot needs about \(formatBytes(needed))" : "min-free \(percent)% wants \(formatBytes(wanted)) more free space"
        guard stored >= wanted else {
            warn("the filesystem of sink '\(name)' has \(formatBytes(space.free)) free of \(formatBytes(space.total)); \(what), but removing snapshots would free at most \(formatBytes(max(stored, 0))): the disk is full of other data, or too small. No snapshot was removed; free space there, or lower retention.min-free")
            return []
        }
        guard !removable.isEmpty else {
            warn("the filesystem of sink '\(name)' has \(formatBytes(space.free)) free; \(what), but min-keep \(policy.minKeep) keeps the \(plural(snapshots.count, "snapshot")) there. No snapshot was removed")
            return []
        }
        var deleted: [Snapshot] = []
        for oldest in removable {
            guard let now = self.space(), Int64(percent / 100 * Double(now.total)) + needed > now.free else { break }
            let freePercent = (Double(now.free) * 1000 / Double(now.total)).rounded() / 10
            try delete(oldest)
            try root.file.syncFileSystem()
            deleted.append(oldest)
            each(oldest, [needed > 0 ? "the sink is full: removed to make room for the new snapshot"
                                     : "the sink has \(freePercent)% free, less than min-free \(percent)%"])
        }
        return deleted
    }
}

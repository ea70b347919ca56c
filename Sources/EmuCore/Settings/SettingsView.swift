import EmuRecords

/// Settings as they take effect: each key's value and where it comes from,
/// for `emu config --list` and the words `emu config` says after a change.
public struct EffectiveSetting: Sendable {
    public enum Origin: Sendable, Equatable {
        /// Set in the source's `.emu/config`.
        case source
        /// Set in the sink's `.emu/config`.
        case sink(String)
        /// Unset: emu's default applies.
        case defaultValue
    }

    public var setting: Setting
    public var value: String
    public var origin: Origin
    /// The sink a sink setting belongs to.
    public var sink: String?
}

extension Source {
    /// The source's settings: every key that has a value, set or default.
    public func effectiveSettings() throws -> [EffectiveSetting] {
        let document = try config()
        var result: [EffectiveSetting] = []
        for setting in Setting.all where setting.scope == .source {
            if let value = document[setting.sectionInFile, setting.name] {
                result.append(EffectiveSetting(setting: setting, value: value, origin: .source))
            } else if setting.key == "emu.default-sink", let chosen = try? defaultSink() {
                result.append(EffectiveSetting(setting: setting, value: chosen.name, origin: .defaultValue))
            } else if let value = setting.defaultValue {
                result.append(EffectiveSetting(setting: setting, value: value, origin: .defaultValue))
            }
        }
        // How each remote sink is reached.
        for registration in try sinks() where registration.remote != nil {
            for setting in Setting.perSink.map({ $0.forSink(registration.name) }) {
                let value = document[setting.sectionInFile, setting.name]
                result.append(EffectiveSetting(setting: setting, value: value ?? setting.defaultValue!, origin: value == nil ? .defaultValue : .source,
                                               sink: registration.name))
            }
        }
        return result
    }
}

extension SinkStore {
    /// The sink's settings. Rotation's defaults apply only while the sink
    /// sets no retention key: setting one replaces the whole default policy.
    public func effectiveSettings() throws -> [EffectiveSetting] {
        let document = try config()
        let setsRetention = Setting.all.contains { $0.isRetention && document[$0.sectionInFile, $0.name] != nil }
        var result: [EffectiveSetting] = []
        for setting in Setting.all where setting.scope == .sink {
            if let value = document[setting.sectionInFile, setting.name] {
                result.append(EffectiveSetting(setting: setting, value: value, origin: .sink(name), sink: name))
            } else if let value = setting.defaultValue, !setsRetention || !setting.isRetention {
                result.append(EffectiveSetting(setting: setting, value: value, origin: .defaultValue, sink: name))
            }
        }
        return result
    }
}

extension RetentionPolicy {
    /// The policy in words, as `emu config` prints it after a change.
    public var summary: String {
        if keepsEverything && minFreePercent == nil { return "keep every snapshot" }
        func count(_ n: Int) -> String { n == Self.unlimited ? "all" : String(n) }
        var rules: [String] = []
        if let keepLast { rules.append("the \(count(keepLast)) newest") }
        let buckets: [(Int?, String)] = [(keepHourly, "hour"), (keepDaily, "day"), (keepWeekly, "week"), (keepMonthly, "month"), (keepYearly, "year")]
        for (n, unit) in buckets {
            guard let n else { continue }
            rules.append(n == Self.unlimited ? "the newest of every \(unit)" : "the newest of each of the last \(n) \(unit)s")
        }
        if let keepWithin { rules.append("everything within \(keepWithin / 3600)h of the newest") }
        if let maxNumber { rules.append("at most \(maxNumber) in all") }
        var text = rules.isEmpty ? "keep every snapshot" : "keep " + rules.joined(separator: "; ")
        if let minFreePercent {
            text += "; remove the oldest while less than \(minFreePercent.formatted)% of the disk is free (keeping at least \(minKeep))"
        }
        return text
    }

    /// How many of `snapshots` this policy keeps that `other` would expire.
    public func keptHere(butExpiredBy other: RetentionPolicy, among snapshots: [Snapshot]) -> Int {
        let expiredThere = Set(other.decide(snapshots).filter { !$0.keep }.map(\.snapshot.id))
        return decide(snapshots).filter { $0.keep && expiredThere.contains($0.snapshot.id) }.count
    }
}

extension Double {
    /// `5` rather than `5.0`; `2.5` as is.
    package var formatted: String { self == rounded() ? String(Int(self)) : String(self) }
}

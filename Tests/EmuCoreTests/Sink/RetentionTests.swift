@testable import EmuCore
import Foundation
import Testing
@testable import EmuRecords
@testable import EmuRemote

@Suite("Retention policies")
struct RetentionTests {
    /// One snapshot a day at 12:00 local time, then four more on the last day.
    func history(days: Int) -> [Snapshot] {
        let calendar = Calendar.current
        let start = calendar.date(from: DateComponents(year: 2023, month: 11, day: 21, hour: 12))!
        var result: [Snapshot] = []
        for day in 0..<days {
            let date = calendar.date(byAdding: .day, value: day, to: start)!
            result.append(snapshot(date, index: result.count))
        }
        let last = result.last!.date.seconds
        for hour in 1...4 { result.append(snapshot(Date(timeIntervalSince1970: TimeInterval(last + Int64(hour) * 3600)), index: result.count)) }
        return result
    }

    func snapshot(_ date: Date, index: Int) -> Snapshot {
        let seconds = Int64(date.timeIntervalSince1970)
        return Snapshot(id: String(format: "%08x%032x", UInt32(truncatingIfNeeded: seconds), index), parent: nil, date: Timestamp(seconds: seconds))
    }

    /// The newest snapshot in each of the `count` most recent buckets, where
    /// `key` names a date's bucket: the rule as Calendar sees it.
    func expected(_ snapshots: [Snapshot], count: Int, key: (Date) -> [Int]) -> Set<String> {
        var kept = Set<String>()
        var seen: [[Int]] = []
        for s in snapshots.sorted(by: { $0.date > $1.date }) {
            let bucket = key(Date(timeIntervalSince1970: TimeInterval(s.date.seconds)))
            if seen.last != bucket, seen.count < count { seen.append(bucket); kept.insert(s.id) }
        }
        return kept
    }

    @Test("three years of daily snapshots keep exactly the right ones")
    func threeYears() throws {
        let snapshots = history(days: 3 * 365)
        var policy = RetentionPolicy()
        policy.keepLast = 2
        policy.keepDaily = 7
        policy.keepWeekly = 5
        policy.keepMonthly = 13
        policy.keepYearly = 10
        policy.keepWithin = 2 * 3600
        let calendar = Calendar(identifier: .iso8601)
        var want = Set(snapshots.sorted(by: { $0.date > $1.date }).prefix(2).map(\.id))
        want.formUnion(expected(snapshots, count: 7) { calendar.dateComponents([.year, .month, .day], from: $0).values })
        want.formUnion(expected(snapshots, count: 5) { calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0).values })
        want.formUnion(expected(snapshots, count: 13) { calendar.dateComponents([.year, .month], from: $0).values })
        want.formUnion(expected(snapshots, count: 10) { calendar.dateComponents([.year], from: $0).values })
        let newest = snapshots.map(\.date.seconds).max()!
        want.formUnion(snapshots.filter { $0.date.seconds >= newest - 2 * 3600 }.map(\.id))

        let decisions = policy.decide(snapshots)
        #expect(Set(decisions.filter(\.keep).map(\.snapshot.id)) == want)
        #expect(decisions.filter(\.keep).count < 45)
        // Yearly buckets include the year: the newest of each of 2023..2026 stays.
        let years = Set(decisions.filter { $0.reasons.contains { $0.hasPrefix("yearly") } }.map { $0.snapshot.date.bucket(.year) })
        #expect(years == ["2023", "2024", "2025", "2026"])
    }

    @Test("the standard policy keeps a day of everything, 31 days, then weeks")
    func standard() {
        let snapshots = history(days: 120)
        let calendar = Calendar(identifier: .iso8601)
        let newest = snapshots.map(\.date.seconds).max()!
        var want = Set(snapshots.filter { $0.date.seconds >= newest - 86400 }.map(\.id))
        want.formUnion(expected(snapshots, count: 31) { calendar.dateComponents([.year, .month, .day], from: $0).values })
        want.formUnion(expected(snapshots, count: Int.max) { calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: $0).values })
        let kept = RetentionPolicy.standard.decide(snapshots).filter(\.keep)
        #expect(Set(kept.map(\.snapshot.id)) == want)
        #expect(RetentionPolicy.standard.minFreePercent == 5)
    }

    @Test("max-number alone keeps the newest N; with other rules it caps them")
    func maxNumber() throws {
        let snapshots = history(days: 10)
        var config = INIDocument()
        config["Snapshots", "max-number"] = "3"
        let alone = try RetentionPolicy(config: config)
        #expect(alone.decide(snapshots).filter(\.keep).count == 3)
        config["Retention", "keep-daily"] = "8"
        let capped = try RetentionPolicy(config: config)
        #expect(capped.decide(snapshots).filter(\.keep).count == 3)
        config = INIDocument()
        config["Retention", "keep-all"] = "yes"
        #expect(try RetentionPolicy(config: config).decide(snapshots).allSatisfy(\.keep))
    }

    @Test("durations, counts and percentages parse; nonsense is a usage error")
    func parsing() throws {
        #expect(try RetentionPolicy.parseDuration("36h") == 36 * 3600)
        #expect(try RetentionPolicy.parseDuration("2w") == 14 * 86400)
        #expect(try RetentionPolicy.parseDuration("6mo") == 180 * 86400)
        #expect(try RetentionPolicy.parseDuration("7") == 7 * 86400)
        #expect(try RetentionPolicy.parseCount("all", option: "x") == RetentionPolicy.unlimited)
        #expect(try RetentionPolicy.parsePercent("5%") == 5)
        #expect { try RetentionPolicy.parseDuration("soon") } throws: { ($0 as? EmuError)?.kind == .usage }
        #expect { try RetentionPolicy.parseCount("-4", option: "x") } throws: { ($0 as? EmuError)?.kind == .usage }
    }
}

extension DateComponents {
    var values: [Int] { [year, yearForWeekOfYear, weekOfYear, month, day].compactMap { $0 } }
}

@testable import EmuCore
import EmuPOSIX
import Testing
@testable import EmuRecords
@testable import EmuRemote

@Suite("Snapshot references")
struct ReferenceTests {
    func snapshots(_ count: Int) -> [Snapshot] {
        (0..<count).map { i in
            let id = String(format: "%08x", 0x6000_0000 + i) + String(repeating: "\(i % 10)", count: 32)
            return Snapshot(id: id, parent: nil, date: Timestamp(seconds: 1_700_000_000 + Int64(i) * 3600))
        }
    }

    @Test("each form parses to its selector", arguments: [
        ("HEAD", SnapshotReference.Selector.head(back: 0)),
        ("HEAD^", .head(back: 1)),
        ("HEAD^^", .head(back: 2)),
        ("HEAD~3", .head(back: 3)),
        ("HEAD~", .head(back: 1)),
        ("TAIL", .tail),
        ("abcd", .id("abcd")),
        ("ABCDEF01", .id("abcdef01")),
        ("2026-11-21 09.15.00", .name("2026-11-21 09.15.00")),
    ])
    func parses(text: String, selector: SnapshotReference.Selector) throws {
        #expect(try SnapshotReference(parsing: text).selector == selector)
        let withSink = try SnapshotReference(parsing: "origin:" + text)
        #expect(withSink.sink == "origin")
        #expect(withSink.selector == selector)
    }

    @Test("malformed references are usage errors", arguments: ["abc", "HEAD~x", "HEAD^~", "zzzz", "bad sink:HEAD", "@tomorrow", "@2026-13-01"])
    func malformed(text: String) {
        #expect {
            try SnapshotReference(parsing: text)
        } throws: { ($0 as? EmuError)?.kind == .usage }
    }

    @Test("a sink name alone means that sink's HEAD")
    func sinkAlone() throws {
        let reference = try SnapshotReference(parsing: "usb", sinkNames: ["usb"])
        #expect(reference.sink == "usb")
        #expect(reference.selector == .head(back: 0))
    }

    @Test("@DATE with a time keeps its colons out of the sink part")
    func dateWithColons() throws {
        let reference = try SnapshotReference(parsing: "@2026-11-01T12:00")
        #expect(reference.sink == nil)
        guard case .date(let date) = reference.selector else { Issue.record("not a date"); return }
        #expect(date.displayText == "2026-11-01 12:00:00")
        let bareDay = try SnapshotReference(parsing: "origin:@2026-11-01")
        guard case .date(let end) = bareDay.selector else { Issue.record("not a date"); return }
        #expect(end.displayText == "2026-11-01 23:59:59")
    }

    @Test("resolution: HEAD~N, TAIL, prefixes, names and dates")
    func resolves() throws {
        let all = snapshots(5)
        func resolve(_ text: String) throws -> Snapshot { try SnapshotReference(parsing: text).resolve(in: all, sinkName: "s") }
        #expect(try resolve("HEAD").id == all[4].id)
        #expect(try resolve("HEAD~2").id == all[2].id)
        #expect(try resolve("HEAD^").id == all[3].id)
        #expect(try resolve("TAIL").id == all[0].id)
        #expect(try resolve(String(all[1].id.prefix(10))).id == all[1].id)
        #expect(try resolve(all[3].name).id == all[3].id)
        #expect(try resolve("@" + String(all[2].date.seconds + 10)).id == all[2].id)
        #expect { try resolve("HEAD~5") } throws: { ($0 as? EmuError)?.kind == .usage }
        #expect { try resolve("6000") } throws: { ($0 as? EmuError)?.message.contains("ambiguous") == true }
        #expect { try resolve("ffff") } throws: { ($0 as? EmuError)?.kind == .usage }
    }

    @Test("show's REF:PATH splits after the reference, even a dated one")
    func referenceAndPath() throws {
        let (plain, path) = try splitReferenceAndPath("origin:HEAD~1:docs/a.txt", sinkNames: ["origin"])
        #expect(plain.sink == "origin")
        #expect(plain.selector == .head(back: 1))
        #expect(path == RelativePath("docs/a.txt"))
        let (dated, datedPath) = try splitReferenceAndPath("@2026-11-01T12:00:etc/x", sinkNames: [])
        guard case .date = dated.selector else { Issue.record("not a date"); return }
        #expect(datedPath == RelativePath("etc/x"))
        let (_, none) = try splitReferenceAndPath("HEAD", sinkNames: [])
        #expect(none == nil)
        let (_, root) = try splitReferenceAndPath("HEAD:", sinkNames: [])
        #expect(root == .root)
    }
}

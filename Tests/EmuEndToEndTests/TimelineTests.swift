import EmuPOSIX
import Foundation
import Glibc
import Testing

/// `emu timeline` (issue 15): one self-contained page, drawn by a real
/// headless Chromium; the screenshot must show every kind of mark.
@Suite("timeline")
struct TimelineTests {
    static let colors = ["total": "#1f77b4", "unique": "#ff7f0e", "added": "#2ca02c", "deleted": "#d62728", "changed": "#9467bd",
                         "failed": "#e6007e", "incomplete": "#bcbd22", "path": "#17becf"]
    /// The legend shows each colour in a 12×12 square: a mark is more than that.
    static let legendPixels = 144
    static let counter = ScheduleTests.repository + "/Tests/EmuEndToEndTests/Support/png_colors.py"


    @Test("the page draws totals, unique bytes, changes, a failed push, an incomplete snapshot and a path's history, offline",
          Skips.needsRoot("needs root to act as another user"))
    func drawnByChromium() throws {
        let w = try Workspace().initialize()
        // Pushes as nobody, so a root-only file makes one snapshot incomplete.
        sh("chmod 755 '\(w.root)' && chown -R 65534:65534 '\(w.root)'")
        let steps = [
            "for i in $(seq 40); do head -c 4096 /dev/urandom > keep$i; done; echo v1 > tracked.txt; echo a > gone",
            "echo new > added1; echo new > added2; rm gone; head -c 80000 /dev/urandom > passing",
            "echo v2 > tracked.txt; rm passing",
            "echo x > secret && chmod 600 secret",
        ]
        for step in steps {
            let owner = step.contains("secret") ? " && chown 0:0 secret" : ""
            #expect(sh("cd '\(w.source)' && \(step) && chown -R 65534:65534 '\(w.source)'\(owner)") == 0)
            let run = try w.emu("push", asNobody: true)
            #expect(run.status == (step.contains("secret") ? 3 : 0), "\(run.stderr)")
        }
        #expect(sh("cd '\(w.source)' && mkdir -p .emu/hooks/push && printf '#!/bin/sh\\nexit 1\\n' > .emu/hooks/push/no.pre && chmod 755 .emu/hooks/push/no.pre && chown -R 65534:65534 .emu") == 0)
        #expect(try w.emu("push", asNobody: true).status == 1)

        let page = try w.emu("timeline", "--path", "tracked.txt")
        try w.expectSuccess(page)
        // No script, nothing fetched: the only URL is the SVG namespace's name.
        #expect(!page.stdout.contains("<script") && !page.stdout.contains("https://") && !page.stdout.contains("src="))
        #expect(page.stdout.contains("<svg id=\"timeline\""))
        let html = w.root + "/timeline.html"
        try page.stdout.write(toFile: html, atomically: true, encoding: .utf8)
        // The page as the browser understood it, then as it drew it.
        let dom = try w.bash("chromium --headless --no-sandbox --disable-gpu --dump-dom 'file://\(html)' 2>/dev/null")
        for mark in ["class=\"total\"", "class=\"unique\"", "class=\"change-added\"", "class=\"change-deleted\"", "class=\"change-changed\"",
                     "class=\"failed-push\"", "class=\"incomplete\"", "class=\"path-change\""] {
            #expect(dom.stdout.contains(mark), "the browser's DOM lacks \(mark)")
        }
        let shot = w.root + "/shot.png"
        #expect(sh("chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1000 --screenshot='\(shot)' 'file://\(html)' >/dev/null 2>&1") == 0)
        let counted = try w.bash("python3 '\(Self.counter)' '\(shot)' " + Self.colors.values.map { "'\($0)'" }.joined(separator: " "))
        let pixels = Dictionary(uniqueKeysWithValues: counted.stdout.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return (String(parts[0]), Int(parts[1]) ?? 0)
        })
        for (mark, color) in Self.colors {
            #expect((pixels[color] ?? 0) > Self.legendPixels, "\(mark) (\(color)) is not drawn: \(pixels[color] ?? 0) pixels")
        }
        // Only the second snapshot held `passing`: its 80 kB are its own.
        let unique = try w.loggedSnapshots().compactMap { $0["unique_bytes"] as? Int }
        #expect(unique.count == 4 && unique[2] >= 80_000, "\(unique)")
        // The table lists every snapshot, the incomplete one as such.
        let snapshotsTable = page.stdout.components(separatedBy: "<table id=\"failures\">")[0]
        #expect(snapshotsTable.components(separatedBy: "<tr><td>").count - 1 == 4 && page.stdout.contains("<td>incomplete</td>"))
    }

    @Test("a manifest that cannot be read is named on stderr and charted as unknown, not as nothing changed")
    func damagedManifest() throws {
        let w = try Workspace().initialize()
        try Fixture.create(["a": .file("one")], at: w.source)
        try w.expectSuccess(w.emu("push"))
        #expect(sh("echo two > '\(w.source)/b'") == 0)
        try w.expectSuccess(w.emu("push"))
        #expect(sh("m='\(w.sink)/.emu/manifests/'$(cat '\(w.sink)/.emu/HEAD') && chmod u+w \"$m\" && echo garbage > \"$m\"") == 0)
        let page = try w.emu("timeline")
        try w.expectSuccess(page)
        #expect(page.stderr.contains("cannot be read") && page.stderr.contains("emu verify"), "\(page.stderr)")
        #expect(page.stdout.contains("<td>unreadable</td>"), "the pair is charted as unknown")
    }

    /// The heights of the marks of `kind` on the page.
    static func heights(_ kind: String, in page: String) -> [Int] {
        page.matches(of: #/<rect class="(?<kind>[a-z-]+)" x="\d+" y="\d+" width="\d+" height="(?<height>\d+)"/#)
            .filter { $0.output.kind == kind }.compactMap { Int($0.output.height) }
    }

    @Test("readable as drawn: unique bytes on their own scale, five dates, as wide as the window, failed pushes labelled and listed")
    func readable() throws {
        let w = try Workspace().initialize()
        #expect(sh("cd '\(w.source)' && for i in $(seq 40); do head -c 8192 /dev/urandom > keep$i; done") == 0)
        try w.expectSuccess(w.emu("push", "-q", "--date", "2026-11-01 10:00"))
        for (day, step) in [("2026-11-10", "head -c 4096 /dev/urandom > keep1"), ("2026-11-20", "head -c 2048 /dev/urandom > keep2")] {
            #expect(sh("cd '\(w.source)' && \(step)") == 0)
            try w.expectSuccess(w.emu("push", "-q", "--date", day + " 10:00"))
        }
        #expect(sh("cd '\(w.source)' && mkdir -p .emu/hooks/push && printf '#!/bin/sh\\nexit 1\\n' > .emu/hooks/push/no.pre && chmod 755 .emu/hooks/push/no.pre") == 0)
        #expect(try w.emu("push").status == 1)
        let page = try w.emu("timeline")
        try w.expectSuccess(page)
        // Unique bytes (a few kB) against a total of 330 kB: on one scale the bars were a few pixels.
        let unique = Self.heights("unique", in: page.stdout)
        #expect(unique.count == 3 && (unique.max() ?? 0) >= 200, "\(unique)")
        #expect(page.stdout.components(separatedBy: "class=\"date\"").count - 1 == 5, "five dates on the axis")
        #expect(page.stdout.contains("class=\"failed-label\"") && page.stdout.contains("<table id=\"failures\">"))
        // As wide as the window: in a 600-pixel window the failed push, the rightmost mark, is still drawn.
        let html = w.root + "/timeline.html"
        try page.stdout.write(toFile: html, atomically: true, encoding: .utf8)
        let shot = w.root + "/narrow.png"
        #expect(sh("chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=600,900 --screenshot='\(shot)' 'file://\(html)' >/dev/null 2>&1") == 0)
        let counted = try w.bash("python3 '\(Self.counter)' '\(shot)' '\(Self.colors["failed"]!)'")
        let failed = Int(counted.stdout.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(failed > Self.legendPixels, "the failed push is outside a 600-pixel window: \(counted.stdout)")
        let terminal = try w.bash("script -qec '\"$EMU\" timeline' /dev/null")
        #expect(terminal.stdout.contains("standard output is a terminal") && !terminal.stdout.contains("<html")
                && terminal.stdout.components(separatedBy: "fix:").count == 2, "one error, one fix: \(terminal.stdout)")
    }

    @Test("one snapshot: its date under it, and no axis from 0 to 0 for changes it cannot have")
    func oneSnapshot() throws {
        let w = try Workspace().initialize()
        #expect(sh("echo a > '\(w.source)/a'") == 0)
        try w.expectSuccess(w.emu("push", "-q"))
        let page = try w.emu("timeline")
        try w.expectSuccess(page)
        #expect(page.stdout.contains("changes show from the second snapshot on"))
        #expect(page.stdout.components(separatedBy: "class=\"date\"").count - 1 == 1)
        #expect(!page.stdout.contains(">changes</text>"), "no changes axis")
    }
}

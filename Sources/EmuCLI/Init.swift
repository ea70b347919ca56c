import ArgumentParser
import EmuCore
import EmuRecords
import EmuRemote

extension Emu {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make SOURCE/.emu/ from templates.",
            discussion: """
                Idempotent: files that are missing are copied from the templates, present ones \
                are kept. The templates are built into emu; an installed share/emu/templates \
                (or --template-dir, or $EMU_TEMPLATE_DIR) overrides them. With -f every template file is restored to its default; registered \
                sinks are never touched.

                \(ExitStatus.help)
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("Copy templates from DIR instead of emu's own.", valueName: "DIR"))
        var templateDir: String?

        @Flag(name: .shortAndLong, help: "Restore every template file to its default.")
        var force = false

        @Flag(name: [.customShort("n"), .customShort("d"), .customLong("dry-run")], help: "Change nothing; print what would be written.")
        var dryRun = false

        func run() throws {
            let terminal = global.terminal
            let templates = try Templates.load(explicit: templateDir)
            let report = try initializeSource(at: global.sourceDirectory ?? ".", templates: templates, force: force, dryRun: dryRun)
            if dryRun {
                for file in report.written { terminal.output("would write .emu/\(file)") }
                return
            }
            for file in report.written { terminal.detail("wrote .emu/\(file)") }
            if report.created {
                terminal.info("Initialized emu source in \(report.path)")
            } else if report.written.isEmpty {
                terminal.info("emu source in \(report.path) is complete; nothing to do")
            } else {
                terminal.info("Repaired emu source in \(report.path) (\(plural(report.written.count, "file")) restored)")
            }
        }
    }
}

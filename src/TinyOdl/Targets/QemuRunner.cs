using System.Diagnostics;
using TinyOdl.Simulation;

namespace TinyOdl.Targets;

/// <summary>The outcome of building and running one output folder under QEMU.</summary>
public sealed record DeviceRun(BuildCombo Combo, int ExitCode, string Stdout, string Stderr, IReadOnlyList<ProtocolLine> Lines)
{
    /// <summary>The simulator's run of the same ELF compared with QEMU's, when it was checked.</summary>
    public QemuAgreement? Simulator { get; init; }

    public bool Succeeded => ExitCode == 0 && Lines.Count > 0 && Lines[^1].Keyword == "done";
}

/// <summary>
/// Builds an output folder with firmware/build.mk and runs it on qemu-system-riscv32 (-icount shift=0). With
/// <see cref="QemuCrossCheck.EnvironmentVariable"/>=1 each run is also run on the simulator and must agree.
/// </summary>
public static class QemuRunner
{
    public static DeviceRun BuildAndRun(string outDir, BuildCombo combo, bool? checkSimulator = null)
    {
        var vars = $"TOOLCHAIN={combo.Toolchain} OPT={combo.Opt}";
        var build = Exec("make", $"-C \"{outDir}\" -s {vars} all");
        if (build.Code != 0)
            throw new TinyOdlException($"{outDir}: build with {combo.Name} failed:\n{Tail(build.Stdout + build.Stderr)}");
        return Run(outDir, combo, vars, checkSimulator: checkSimulator);
    }

    /// <summary>
    /// `make run` with the given make variables (it builds first if anything is out of date) and the exit status
    /// QEMU reported. <paramref name="board"/> is the machine for the simulator check; by default the board named
    /// in the folder's tinyodl.json.
    /// </summary>
    public static DeviceRun Run(string outDir, BuildCombo combo, string makeVars, Board? board = null, bool? checkSimulator = null)
    {
        var run = Exec("make", $"-C \"{outDir}\" -s {makeVars} run");
        var statusFile = Path.Combine(outDir, combo.BuildDirectory, "exit-status");
        int code = File.Exists(statusFile) && int.TryParse(File.ReadAllText(statusFile).Trim(), out int c) ? c : run.Code;
        var device = new DeviceRun(combo, code, run.Stdout, run.Stderr, Protocol.Parse(run.Stdout));
        if (!(checkSimulator ?? QemuCrossCheck.EnabledByEnvironment)) return device;
        return CheckSimulator(device, Path.Combine(outDir, combo.BuildDirectory, "program.elf"), board ?? Board.OfOutputFolder(outDir), true);
    }

    /// <summary>Runs <paramref name="elf"/> on the simulator and requires it to agree with QEMU's run (when checking is on).</summary>
    public static DeviceRun CheckSimulator(DeviceRun qemu, string elf, Board board, bool? checkSimulator = null)
    {
        if (!(checkSimulator ?? QemuCrossCheck.EnabledByEnvironment) || !File.Exists(elf)) return qemu;
        return qemu with { Simulator = QemuCrossCheck.Require(elf, board, qemu.Stdout, qemu.ExitCode) };
    }

    public static (int Code, string Stdout, string Stderr) Exec(string file, string args)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        using var p = Process.Start(psi) ?? throw new TinyOdlException($"cannot start {file}");
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, stderr.Result);
    }

    /// <summary>The last <paramref name="count"/> lines of a program's output, for error messages.</summary>
    public static string Tail(string s, int count = 30)
    {
        var lines = s.Split('\n');
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Length - count)));
    }
}

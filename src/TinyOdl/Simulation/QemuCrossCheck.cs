using System.Globalization;
using TinyOdl.Targets;

namespace TinyOdl.Simulation;

/// <summary>How the simulator's run of an ELF compares with QEMU's run of the same ELF.</summary>
/// <param name="CountersCompared">Counter fields (instret, cycles, ...) of the harness protocol compared; under
/// <c>-icount shift=0</c> they are minstret and mcycle deltas, so equal counters mean equal retired instructions.</param>
/// <param name="Difference">The first disagreement in words, or null when stdout, exit status and counters all agree.</param>
public sealed record QemuAgreement(string Elf, string Board, int QemuExit, int SimulatorExit, int CountersCompared, ulong Instret,
    TimeSpan SimulatorTime, string? Difference)
{
    public bool Agrees => Difference is null;
}

/// <summary>
/// Runs an ELF that QEMU has just run on the simulator and compares the two: stdout byte for byte, exit status,
/// and every counter the harness printed. With <see cref="EnvironmentVariable"/> set to 1, every run through
/// <see cref="QemuRunner"/> is checked this way (the test suite sets it, so every program it builds is compared).
/// </summary>
public static class QemuCrossCheck
{
    /// <summary>"1": QemuRunner also runs each program on the simulator and fails when the two disagree.</summary>
    public const string EnvironmentVariable = "TINYODL_CHECK_SIMULATOR";

    /// <summary>A file that receives one tab-separated line per comparison (for reports over a whole test run).</summary>
    public const string LogVariable = "TINYODL_CHECK_SIMULATOR_LOG";

    public static bool EnabledByEnvironment => Environment.GetEnvironmentVariable(EnvironmentVariable) == "1";

    private static readonly object LogLock = new();

    /// <summary>The counter fields of the protocol lines, in order, as "keyword id field value".</summary>
    public static IReadOnlyList<string> Counters(string stdout) =>
        Protocol.Parse(stdout).SelectMany(l => Enumerable.Range(0, Math.Max(0, l.Fields.Count - 1))
            .Where(i => l.Fields[i] is "instret" or "cycles" or "instret_first" or "instret_min" or "instret_max" or "cycles_first")
            .Select(i => $"{l.Keyword} {l.Fields[0]} {l.Fields[i]} {l.Fields[i + 1]}")).ToArray();

    public static QemuAgreement Compare(string elf, Board board, string qemuStdout, int qemuExit)
    {
        var (sim, simStdout, _) = Simulator.RunCaptured(elf, board);
        var counters = Counters(qemuStdout);
        string? difference = null;
        if (qemuStdout != simStdout)
            difference = FirstDifferentLine(qemuStdout, simStdout) + (sim.Stop == StopKind.Exited ? "" : $" (simulator: {sim.Report})");
        else if (qemuExit != sim.ExitStatus)
            difference = $"exit status: QEMU {qemuExit}, simulator {sim.ExitStatus}{(sim.Report is null ? "" : $" ({sim.Report})")}";
        var agreement = new QemuAgreement(elf, board.Vlen > 0 ? $"{board.Name} VLEN {board.Vlen}" : board.Name, qemuExit, sim.ExitStatus,
            counters.Count, sim.Instret, sim.Elapsed, difference);
        Log(agreement);
        return agreement;
    }

    /// <summary>As <see cref="Compare"/>, but a disagreement is an error naming the ELF and the first difference.</summary>
    public static QemuAgreement Require(string elf, Board board, string qemuStdout, int qemuExit)
    {
        var a = Compare(elf, board, qemuStdout, qemuExit);
        if (!a.Agrees) throw TinyOdlException.At(elf, $"the simulator disagrees with QEMU: {a.Difference}");
        return a;
    }

    private static string FirstDifferentLine(string qemu, string sim)
    {
        var q = qemu.Split('\n');
        var s = sim.Split('\n');
        int i = 0;
        while (i < Math.Min(q.Length, s.Length) && q[i] == s[i]) i++;
        static string Cut(string x) => x.Length > 200 ? x[..200] + "..." : x;
        return $"stdout line {i + 1}: QEMU '{Cut(i < q.Length ? q[i] : "(end)")}', simulator '{Cut(i < s.Length ? s[i] : "(end)")}'";
    }

    private static void Log(QemuAgreement a)
    {
        var path = Environment.GetEnvironmentVariable(LogVariable);
        if (string.IsNullOrEmpty(path)) return;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"{(a.Agrees ? "agree" : "DISAGREE")}\t{a.Board}\t{a.Instret}\t{a.CountersCompared}\t{a.QemuExit}\t{a.SimulatorExit}\t{a.SimulatorTime.TotalSeconds:F3}\t{a.Elf}\n");
        lock (LogLock) File.AppendAllText(path, line);
    }
}

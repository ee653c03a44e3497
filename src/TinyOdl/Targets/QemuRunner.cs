using System.Diagnostics;

namespace TinyOdl.Targets;

/// <summary>The outcome of building and running one output folder under QEMU.</summary>
public sealed record DeviceRun(BuildCombo Combo, int ExitCode, string Stdout, string Stderr, IReadOnlyList<ProtocolLine> Lines)
{
    public bool Succeeded => ExitCode == 0 && Lines.Count > 0 && Lines[^1].Keyword == "done";
}

/// <summary>Builds an output folder with firmware/build.mk and runs it on qemu-system-riscv32 (-icount shift=0).</summary>
public static class QemuRunner
{
    public static DeviceRun BuildAndRun(string outDir, BuildCombo combo)
    {
        var vars = $"TOOLCHAIN={combo.Toolchain} OPT={combo.Opt}";
        var build = Exec("make", $"-C \"{outDir}\" -s {vars} all");
        if (build.Code != 0)
            throw new TinyOdlException($"{outDir}: build with {combo.Name} failed:\n{Tail(build.Stdout + build.Stderr)}");
        var run = Exec("make", $"-C \"{outDir}\" -s {vars} run");
        var statusFile = Path.Combine(outDir, combo.BuildDirectory, "exit-status");
        int code = File.Exists(statusFile) && int.TryParse(File.ReadAllText(statusFile).Trim(), out int c) ? c : run.Code;
        return new DeviceRun(combo, code, run.Stdout, run.Stderr, Protocol.Parse(run.Stdout));
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

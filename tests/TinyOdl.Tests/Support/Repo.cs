using System.Diagnostics;

namespace TinyOdl.Tests.Support;

/// <summary>Paths of the checkout the tests run in.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();
    public static string Examples => Path.Combine(Root, "examples");
    public static string DigitsCsv => Path.Combine(Root, "data", "digits.csv.gz");

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "TinyOdl.sln"))) return d.FullName;
        throw new InvalidOperationException("tests must run inside the TinyOdl checkout");
    }
}

/// <summary>A temporary folder deleted at dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tinyodl-test-" + Guid.NewGuid().ToString("N")[..12]);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose()
    {
        try { Directory.Delete(Path, true); } catch (DirectoryNotFoundException) { }
    }
}

/// <summary>Runs the real CLI (the built TinyOdl.Cli.dll) as a separate process, as a user would.</summary>
public static class Cli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string workingDirectory, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "TinyOdl.Cli.dll");
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["COLUMNS"] = "200";
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return new Result(p.ExitCode, output, err.Result);
    }

    public static Result Run(params string[] args) => Run(Repo.Root, null, args);
}

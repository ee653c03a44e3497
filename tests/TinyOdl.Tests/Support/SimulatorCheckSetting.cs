using System.Runtime.CompilerServices;
using TinyOdl.Simulation;

namespace TinyOdl.Tests.Support;

/// <summary>
/// Turns on QemuRunner's simulator check for the whole test run (and for the CLI processes the tests start): every
/// program the suite runs under QEMU also runs on TinyOdl's simulator, which must print the same stdout, return
/// the same exit status and retire the same instructions. Each comparison is logged to simulator-checks.tsv beside
/// the test assembly; `make test` prints its summary. Set TINYODL_CHECK_SIMULATOR=0 to skip the check locally.
/// </summary>
internal static class SimulatorCheckSetting
{
    public static string LogPath { get; } = Path.Combine(AppContext.BaseDirectory, "simulator-checks.tsv");

    [ModuleInitializer]
    internal static void Enable()
    {
        if (Environment.GetEnvironmentVariable(QemuCrossCheck.EnvironmentVariable) is null)
            Environment.SetEnvironmentVariable(QemuCrossCheck.EnvironmentVariable, "1");
        if (Environment.GetEnvironmentVariable(QemuCrossCheck.LogVariable) is null)
        {
            File.Delete(LogPath);
            Environment.SetEnvironmentVariable(QemuCrossCheck.LogVariable, LogPath);
        }
    }
}

using System.CommandLine;
using TinyOdl;
using TinyOdl.Cli;

// Entry point: parse, dispatch, and turn every user error into one line on stderr with exit code 2.
var root = new RootCommand("TinyOdl: on-device training code for RISC-V microcontrollers")
{
    CompileCommand.Create(),
    RunCommand.Create(),
    VerifyCommand.Create(),
    SweepCommand.Create(),
    ProfileCommand.Create(),
    ExportCommand.Create(),
    SimCommand.Create(),
};

if (Console.IsOutputRedirected)
{
    // Pipes and CI logs: do not wrap tables at 80 columns.
    Spectre.Console.AnsiConsole.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns > 0 ? columns : 160;
}

var parsed = root.Parse(args);
if (args.Length == 0)
{
    root.Parse("--help").Invoke();
    return 2;
}
if (parsed.Errors.Count > 0)
{
    // An unknown word says more than "required command was not provided".
    var error = parsed.Errors.FirstOrDefault(e => !e.Message.StartsWith("Required command", StringComparison.Ordinal)) ?? parsed.Errors[0];
    Console.Error.WriteLine($"tinyodl: {ParseErrors.OneLine(error)}");
    return 2;
}
try
{
    return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (TinyOdlException e)
{
    Console.Error.WriteLine($"tinyodl: error: {e.Message}");
    return 2;
}
catch (Exception e) when (Environment.GetEnvironmentVariable("TINYODL_DEBUG") != "1")
{
    Console.Error.WriteLine($"tinyodl: internal error: {e.GetType().Name}: {e.Message} (set TINYODL_DEBUG=1 for details)");
    return 3;
}

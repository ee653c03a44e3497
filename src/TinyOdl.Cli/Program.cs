using System.CommandLine;
using TinyOdl;
using TinyOdl.Cli;

// Entry point: parse, dispatch, and turn every user error into one line on stderr with exit code 2.
var root = new RootCommand("TinyOdl: on-device training code for RISC-V microcontrollers")
{
    CompileCommand.Create(),
    RunCommand.Create(),
    VerifyCommand.Create(),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"tinyodl: {parsed.Errors[0].Message}");
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

using Btmc.Cli;

namespace Btmc.Functions.Tests;

/// <summary>Runs <c>btmc</c> in this process, as the tests' auditor, witness or operator would run it.</summary>
internal static class CliRun
{
    public static async Task<(int Exit, string Output, string Error)> BtmcAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await BtmcCli.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}

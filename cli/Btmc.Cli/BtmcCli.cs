using System.CommandLine;
using System.CommandLine.Invocation;
using System.Net.Http.Headers;
using Btmc.Platform.Azure.Keys;

namespace Btmc.Cli;

/// <summary>
/// The <c>btmc</c> command: capture documents, fetch and verify receipts, verify chains online or offline, govern,
/// contribute and submit compute. Parsed by System.CommandLine: every command has generated help (<c>-h</c>,
/// <c>--help</c>), and the <c>[suggest]</c> directive answers tab completion (dotnet-suggest).
/// </summary>
public static class BtmcCli
{
    /// <summary>The exit code of a command line that does not make sense: a parse error, a missing or bad option.</summary>
    public const int UsageError = 2;

    /// <summary>Runs one command line; returns the exit code.</summary>
    /// <param name="keyVault">Signs with Key Vault keys (<c>--key https://…</c>): the identity, and for a test vault the transport; DefaultAzureCredential and the SDK's transport when null.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default, KeyVaultAccess? keyVault = null)
    {
        var parseResult = CreateRootCommand(keyVault).Parse(args);

        var configuration = new InvocationConfiguration
        {
            // A parse error's help goes to standard error with the reason: standard output carries only what a command
            // fetched or computed (JSON that scripts redirect to files, the worker's result).
            Output = parseResult.Action is ParseErrorAction ? error : output,
            Error = error,

            // Without the default exception handler, the failures below keep their exit codes; anything else is a bug and throws.
            EnableDefaultExceptionHandler = false,

            // Ctrl+C and SIGTERM end the process at once, as they always have, rather than cancelling the command's
            // token (whose OperationCanceledException would then surface as an unhandled exception).
            ProcessTerminationTimeout = null,
        };
        try
        {
            var exit = await parseResult.InvokeAsync(configuration, cancellationToken);

            // System.CommandLine exits 1 after printing a parse error; btmc keeps 1 for failed verifications, captures,
            // jobs and tasks, so that scripts can tell them from a mistyped command line.
            return parseResult.Action is ParseErrorAction ? UsageError : exit;
        }
        catch (CliUsageException ex)
        {
            error.WriteLine($"btmc: {ex.Message}");
            return UsageError;
        }
        catch (HttpRequestException ex)
        {
            error.WriteLine($"btmc: {ex.Message}");
            return 1;
        }
    }

    /// <summary>Every <c>btmc</c> command, its options and arguments.</summary>
    /// <param name="keyVault">Signs with Key Vault keys (<c>--key https://…</c>): the identity, and for a test vault the transport; DefaultAzureCredential and the SDK's transport when null.</param>
    /// <param name="time">The clock proposals expire and shares are sent by; the system clock when null.</param>
    public static RootCommand CreateRootCommand(KeyVaultAccess? keyVault = null, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var root = new RootCommand(
            "Capture EPCIS documents, fetch and verify receipts and lineage bundles, verify the chains, govern the ledger, contribute and submit compute.\n" +
            "Exit codes: 0 success, 1 verification, capture, job or task failure, 2 usage error, 3 a witness saw a fork.")
        {
            // The name in help and usage lines, whatever process runs the command (dotnet, a test host).
            HelpName = "btmc",
        };
        Command[] commands =
        [
            CaptureCommand.Create(),
            .. LedgerCommand.Create(),
            .. AuditCommand.Create(),
            EpcisCommand.Create(),
            .. CommitteeCommand.Create(keyVault, time),
            .. MineCommand.Create(keyVault, time),
            ComputeCommand.Create(),
            WorkerCommand.Create(),
            PartnerCommand.Create(),
            WitnessCommand.Create(keyVault, time),
            .. TradeCommand.Create(),
        ];
        foreach (var command in commands)
        {
            root.Add(command);
        }

        return root;
    }

    /// <summary>A client of the backend at <paramref name="baseUrl"/>; it sends the partner API key the command was
    /// given (<see cref="ApiKeyOptions.Find"/>), if any.</summary>
    public static HttpClient CreateClient(Uri baseUrl, ParseResult? parseResult = null)
    {
        var client = new HttpClient
        {
            BaseAddress = new Uri(baseUrl.AbsoluteUri.TrimEnd('/') + "/"),
            Timeout = TimeSpan.FromMinutes(5),
            DefaultRequestHeaders = { Accept = { new MediaTypeWithQualityHeaderValue("application/json") } },
        };
        if (parseResult is not null && ApiKeyOptions.Find(parseResult) is { } key)
        {
            client.DefaultRequestHeaders.Add("X-API-Key", key);
        }

        return client;
    }
}

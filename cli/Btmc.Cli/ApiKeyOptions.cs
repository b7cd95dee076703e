using System.CommandLine;

namespace Btmc.Cli;

/// <summary>
/// The partner API key of a command that captures or submits: <c>--api-key</c>, <c>--api-key-file</c>, or the
/// <c>BTMC_API_KEY</c> environment variable.
/// </summary>
internal sealed class ApiKeyOptions
{
    public const string Variable = "BTMC_API_KEY";

    private readonly Option<string> _key = new("--api-key")
    {
        HelpName = "key",
        Description = $"The partner's API key (or --api-key-file, or {Variable}).",
    };

    private readonly Option<FileInfo> _file = new Option<FileInfo>("--api-key-file")
    {
        HelpName = "file",
        Description = "A file holding the partner's API key (the local backend writes .data/keys/partner-local.key).",
    }.AcceptExistingOnly();

    /// <summary>Adds the options to <paramref name="command"/>; that none gives a key is a parse error there.</summary>
    public ApiKeyOptions(Command command, string commandLine)
    {
        command.Add(_key);
        command.Add(_file);
        command.Validators.Add(result =>
        {
            // The key's token, not its value: command validators run before option values are parsed.
            if (result.GetResult(_key) is not { Tokens: [{ Value.Length: > 0 }] } && result.GetResult(_file) is null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
            {
                result.AddError($"{commandLine} needs a partner API key: --api-key-file <file> (the local backend writes .data/keys/partner-local.key), --api-key <key> or {Variable}.");
            }
        });
    }

    /// <summary>Adds optional <c>--api-key</c> and <c>--api-key-file</c> to a command that reads from the backend: every
    /// read but the chain heads needs a partner's key (docs/partners.md); <see cref="BtmcCli.CreateClient"/> sends it.</summary>
    public static void AddOptional(Command command)
    {
        command.Add(new Option<string>("--api-key") { HelpName = "key", Description = $"The partner's API key (or --api-key-file, or {Variable})." });
        command.Add(new Option<FileInfo>("--api-key-file")
        {
            HelpName = "file",
            Description = "A file holding the partner's API key (the local backend writes .data/keys/partner-local.key).",
        }.AcceptExistingOnly());
    }

    /// <summary>The key a command was given, if any: <c>--api-key</c>, <c>--api-key-file</c>, else <c>BTMC_API_KEY</c>.</summary>
    public static string? Find(ParseResult parseResult)
    {
        var options = parseResult.CommandResult.Command.Options;
        if (options.Any(o => o.Name == "--api-key") && parseResult.GetValue<string>("--api-key") is { Length: > 0 } key)
        {
            return key;
        }

        if (options.Any(o => o.Name == "--api-key-file") && parseResult.GetValue<FileInfo>("--api-key-file") is { } file)
        {
            return File.ReadAllText(file.FullName).Trim();
        }

        return Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
    }

    public string Of(ParseResult parseResult) =>
        parseResult.GetValue(_key) is { Length: > 0 } key ? key
        : parseResult.GetValue(_file) is { } file ? File.ReadAllText(file.FullName).Trim()
        : Environment.GetEnvironmentVariable(Variable)!;
}

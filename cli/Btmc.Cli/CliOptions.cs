using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace Btmc.Cli;

/// <summary>The options several commands share, and how an action reaches the writers it was invoked with.</summary>
internal static class CliOptions
{
    /// <summary><c>--url &lt;base&gt;</c>: the backend, required, an absolute http(s) URL.</summary>
    public static Option<Uri> Url() => new("--url")
    {
        Required = true,
        HelpName = "base",
        Description = "The backend's base URL, e.g. http://localhost:7071.",
        CustomParser = result => Uri.TryCreate(result.Tokens.Single().Value, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : Invalid<Uri>(result, $"--url {result.Tokens.Single().Value}: not an absolute http or https URL."),
    };

    /// <summary><c>--out &lt;file&gt;</c>: write what the command fetched to a file instead of printing it.</summary>
    public static Option<FileInfo> Out(string what) => new("--out")
    {
        HelpName = "file",
        Description = $"Write {what} to this file instead of printing it.",
    };

    /// <summary><c>--key &lt;key&gt;</c>: the key that signs (<see cref="SigningKeys.OpenAsync"/>), required.</summary>
    public static Option<string> SigningKey(string who) => new("--key")
    {
        Required = true,
        HelpName = "key",
        Description = $"The {who}'s key: a Key Vault key id, https://<vault>.vault.azure.net/keys/<name>[/<version>], signed in the vault " +
            "as the signed-in identity, or a local key file (PEM).",
    };

    /// <summary><c>--key &lt;jwk&gt;</c>: the producer key a proof must be signed with.</summary>
    public static Option<string> PinnedKey() => new("--key")
    {
        HelpName = "jwk",
        Description = "Pin the producer key: a JWK file. Without it, any key the proof names is accepted (and the output says so).",
    };

    /// <summary>A flag: present or absent, never followed by a value, so that it cannot swallow the next argument.</summary>
    public static Option<bool> Flag(string name, string description) => new(name)
    {
        Arity = ArgumentArity.Zero,
        Description = description,
    };

    /// <summary>Reports a value the parser cannot accept, from a custom parser.</summary>
    public static T? Invalid<T>(ArgumentResult result, string error)
    {
        result.AddError(error);
        return default;
    }

    /// <summary>An integer option whose value, when given, is at least <paramref name="minimum"/>.</summary>
    public static Option<T> AtLeast<T>(this Option<T> option, T minimum)
        where T : struct, IBinaryInteger<T> =>
        option.Parsed(minimum, null, $"{option.Name} must be an integer, at least {minimum}.");

    /// <summary>An integer option whose value, when given, is between <paramref name="minimum"/> and <paramref name="maximum"/>.</summary>
    public static Option<T> Between<T>(this Option<T> option, T minimum, T maximum)
        where T : struct, IBinaryInteger<T> =>
        option.Parsed(minimum, maximum, $"{option.Name} must be between {minimum} and {maximum}.");

    /// <summary>
    /// Parses the integer and checks its range in the option's parser, not in a validator: System.CommandLine runs
    /// validators before it converts, so a validator cannot read a value that may not convert.
    /// </summary>
    private static Option<T> Parsed<T>(this Option<T> option, T minimum, T? maximum, string error)
        where T : struct, IBinaryInteger<T>
    {
        option.CustomParser = result =>
            T.TryParse(result.Tokens.Single().Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= minimum && (maximum is null || value <= maximum)
                ? value
                : Invalid<T>(result, error);
        return option;
    }

    /// <summary>
    /// Sets the command's action to <paramref name="run"/> with the invocation's output and error writers (those
    /// <see cref="BtmcCli.RunAsync"/> was given, so that tests read what a command printed).
    /// </summary>
    public static void SetAction(this Command command, Func<ParseResult, TextWriter, TextWriter, CancellationToken, Task<int>> run) =>
        command.SetAction((parseResult, cancellationToken) =>
            run(parseResult, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error, cancellationToken));

    /// <inheritdoc cref="SetAction(Command, Func{ParseResult, TextWriter, TextWriter, CancellationToken, Task{int}})"/>
    public static void SetAction(this Command command, Func<ParseResult, TextWriter, TextWriter, int> run) =>
        command.SetAction(parseResult => run(parseResult, parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));
}

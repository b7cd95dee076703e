using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Btmc.Bench;

/// <summary>The options the bench's commands share the shape of: whole numbers within a range, and the server settings after "--".</summary>
internal static class BenchOptions
{
    /// <summary>A whole-number option of <paramref name="fallback"/> when not given, refused outside <paramref name="min"/> to <paramref name="max"/>.</summary>
    public static Option<int> Int(string name, string description, int fallback, int min, int max = int.MaxValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => fallback, HelpName = "n" };
        option.Validators.Add(result => CheckRange(result, min, max));
        return option;
    }

    /// <summary>
    /// A whole-number option that is null when not given, for a default that depends on other options (the command
    /// works it out and its description says how); refused outside <paramref name="min"/> to <paramref name="max"/>.
    /// </summary>
    public static Option<int?> OptionalInt(string name, string description, int min, int max = int.MaxValue)
    {
        var option = new Option<int?>(name) { Description = description, HelpName = "n" };
        option.Validators.Add(result => CheckRange(result, min, max));
        return option;
    }

    /// <summary>
    /// Refuses server settings on <paramref name="command"/>, which starts no server that takes them: the words after
    /// "--" are cut off before parsing (Program.cs), so System.CommandLine would not see them to refuse them itself.
    /// </summary>
    public static Command WithoutServerSettings(this Command command, string[] serverSettings)
    {
        command.Validators.Add(result =>
        {
            if (serverSettings.Length > 0)
            {
                result.AddError($"{command.Name} takes no server settings after --: {string.Join(' ', serverSettings)}");
            }
        });
        return command;
    }

    private static void CheckRange(OptionResult result, int min, int max)
    {
        // The token is read here rather than GetValueOrDefault: System.CommandLine runs an option's validators before it
        // converts the value, and GetValueOrDefault throws on a token that is not a number instead of reporting it
        // (dotnet/command-line-api#2645). Such a token is left to the conversion, which reports it as a usage error.
        if (result.Tokens is [{ Value: var text }] && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && (value < min || value > max))
        {
            result.AddError(max == int.MaxValue
                ? $"{result.Option.Name} must be at least {min}, not {value}"
                : $"{result.Option.Name} must be {min} to {max}, not {value}");
        }
    }
}

namespace Btmc.Cli;

/// <summary>Positional arguments and <c>--name value</c> options of one command line.</summary>
public sealed class CliArguments
{
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);

    public CliArguments(IEnumerable<string> args)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].StartsWith("--", StringComparison.Ordinal))
            {
                var name = list[i][2..];
                var eq = name.IndexOf('=', StringComparison.Ordinal);
                if (eq >= 0)
                {
                    _options[name[..eq]] = name[(eq + 1)..];
                }
                else if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    _options[name] = list[++i];
                }
                else
                {
                    _options[name] = "true";
                }
            }
            else
            {
                Positional.Add(list[i]);
            }
        }
    }

    public List<string> Positional { get; } = [];

    public string? Option(string name) => _options.GetValueOrDefault(name);

    public string Require(string name) =>
        Option(name) ?? throw new CliUsageException($"--{name} is required.");

    public string RequirePositional(int index, string what) =>
        index < Positional.Count ? Positional[index] : throw new CliUsageException($"missing {what}.");
}

/// <summary>A command line that does not make sense; reported with the usage text and exit code 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);

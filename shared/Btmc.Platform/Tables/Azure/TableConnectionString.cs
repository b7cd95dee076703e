namespace Btmc.Platform.Tables.Azure;

/// <summary>
/// The parts of a storage connection string the table client needs: the table endpoint, the account name and its
/// key. <c>UseDevelopmentStorage=true</c> is Azurite's well-known development account on its default port.
/// </summary>
public sealed record TableConnectionString(Uri TableEndpoint, string AccountName, string AccountKey)
{
    /// <summary>Azurite's published development account.</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>The published key of <see cref="DevelopmentAccountName"/> (not a secret: it is in Azurite's README).</summary>
    public const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>
    /// Parses <c>Key=Value;...</c>: <c>AccountName</c> and <c>AccountKey</c> are required, the endpoint is
    /// <c>TableEndpoint</c> or <c>{DefaultEndpointsProtocol}://{AccountName}.table.{EndpointSuffix}</c>.
    /// Throws <see cref="FormatException"/> naming what is missing.
    /// </summary>
    public static TableConnectionString Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var segment in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = segment.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"The connection string segment '{Redact(segment)}' is not Key=Value.");
            }

            parts[segment[..equals].Trim()] = segment[(equals + 1)..].Trim();
        }

        if (parts.TryGetValue("UseDevelopmentStorage", out var development) && bool.TryParse(development, out var useDevelopment) && useDevelopment)
        {
            return new TableConnectionString(
                new Uri("http://127.0.0.1:10002/" + DevelopmentAccountName), DevelopmentAccountName, DevelopmentAccountKey);
        }

        if (!parts.TryGetValue("AccountName", out var account) || account.Length == 0)
        {
            throw new FormatException("The connection string has no AccountName.");
        }

        if (!parts.TryGetValue("AccountKey", out var key) || key.Length == 0)
        {
            throw new FormatException("The connection string has no AccountKey (use a TokenCredential for Entra ID instead).");
        }

        Uri endpoint;
        if (parts.TryGetValue("TableEndpoint", out var tableEndpoint))
        {
            endpoint = new Uri(tableEndpoint.TrimEnd('/'));
        }
        else
        {
            var protocol = parts.GetValueOrDefault("DefaultEndpointsProtocol", "https");
            var suffix = parts.GetValueOrDefault("EndpointSuffix", "core.windows.net");
            endpoint = new Uri($"{protocol}://{account}.table.{suffix}");
        }

        return new TableConnectionString(endpoint, account, key);
    }

    /// <summary>Never show the key in messages or logs.</summary>
    public override string ToString() => $"TableEndpoint={TableEndpoint};AccountName={AccountName};AccountKey=***";

    private static string Redact(string segment) =>
        segment.StartsWith("AccountKey", StringComparison.OrdinalIgnoreCase) ? "AccountKey=***" : segment;
}

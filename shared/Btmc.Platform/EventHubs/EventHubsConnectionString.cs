namespace Btmc.Platform.EventHubs;

/// <summary>
/// The parts of an Event Hubs shared-access connection string
/// (<c>Endpoint=sb://{namespace}.servicebus.windows.net/;SharedAccessKeyName=...;SharedAccessKey=...;EntityPath=...</c>).
/// Keys are case-insensitive; a value runs to the next ';' and may itself contain '=' (base64 keys do).
/// </summary>
public sealed record EventHubsConnectionString(
    string FullyQualifiedNamespace,
    string SharedAccessKeyName,
    string SharedAccessKey,
    string? EntityPath)
{
    public static EventHubsConnectionString Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);

        string? endpoint = null, keyName = null, key = null, entityPath = null;
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var separator = part.IndexOf('=');
            if (separator <= 0)
            {
                throw new FormatException($"Connection string segment '{SegmentName(part)}' is not of the form Name=Value.");
            }

            var name = part[..separator].Trim();
            var value = part[(separator + 1)..].Trim();
            switch (name.ToLowerInvariant())
            {
                case "endpoint": endpoint = value; break;
                case "sharedaccesskeyname": keyName = value; break;
                case "sharedaccesskey": key = value; break;
                case "entitypath": entityPath = value.Length == 0 ? null : value; break;
                case "sharedaccesssignature":
                    throw new FormatException("Connection strings carrying a ready-made SharedAccessSignature are not supported; give SharedAccessKeyName and SharedAccessKey.");
                default: break; // e.g. UseDevelopmentEmulator: not meaningful for the HTTPS send API.
            }
        }

        if (string.IsNullOrEmpty(endpoint) || !Uri.TryCreate(endpoint, UriKind.Absolute, out var endpointUri) || endpointUri.Host.Length == 0)
        {
            throw new FormatException("The connection string needs Endpoint=sb://{namespace}.servicebus.windows.net/.");
        }

        if (string.IsNullOrEmpty(keyName) || string.IsNullOrEmpty(key))
        {
            throw new FormatException("The connection string needs SharedAccessKeyName and SharedAccessKey.");
        }

        return new EventHubsConnectionString(endpointUri.Host, keyName, key, entityPath);
    }

    /// <summary>The segment's name only, so that a malformed key is never echoed into an exception message.</summary>
    private static string SegmentName(string part) => part.Length <= 20 ? part : part[..20] + "...";

    public override string ToString() =>
        $"Endpoint=sb://{FullyQualifiedNamespace}/;SharedAccessKeyName={SharedAccessKeyName};SharedAccessKey=***"
        + (EntityPath is null ? "" : $";EntityPath={EntityPath}");
}

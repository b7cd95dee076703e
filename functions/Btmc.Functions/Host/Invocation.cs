using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Btmc.Functions.Host;

/// <summary>
/// A non-HTTP function: the function.json it is deployed with (its trigger binding, and any retry policy). Put on the
/// endpoint the host invokes it at (<c>POST /{FunctionName}</c>), so that the function.json is generated from the
/// code (<see cref="FunctionJson"/>).
/// </summary>
public sealed record TriggerFunction(JsonObject Trigger, JsonObject? Retry = null)
{
    /// <summary>The trigger binding name of an Event Hubs batch: it arrives as <c>Data.events</c>.</summary>
    public const string EventsBinding = "events";

    /// <summary>
    /// An Event Hubs trigger over <paramref name="eventHubName"/> (cardinality many, dataType string), with the retry
    /// policy that retries a failing batch forever: the partition waits rather than loses events.
    /// </summary>
    public static TriggerFunction EventHub(string eventHubName, string connection, string consumerGroup) => new(
        new JsonObject
        {
            ["type"] = "eventHubTrigger",
            ["direction"] = "in",
            ["name"] = EventsBinding,
            ["eventHubName"] = eventHubName,
            ["connection"] = connection,
            ["consumerGroup"] = consumerGroup,
            ["cardinality"] = "many",
            ["dataType"] = "string",
        },
        new JsonObject
        {
            ["strategy"] = "exponentialBackoff",
            ["maxRetryCount"] = -1,
            ["minimumInterval"] = "00:00:01",
            ["maximumInterval"] = "00:01:00",
        });

    /// <summary>A timer trigger on an NCRONTAB <paramref name="schedule"/> (seconds first), not run on start-up.</summary>
    public static TriggerFunction Timer(string schedule) => new(new JsonObject
    {
        ["type"] = "timerTrigger",
        ["direction"] = "in",
        ["name"] = "timer",
        ["schedule"] = schedule,
        ["runOnStartup"] = false,
        ["useMonitor"] = true,
    });
}

/// <summary>A request the host sent that does not have the documented shape; the member is a JSON pointer.</summary>
public sealed class InvocationException(string member, string detail) : Exception(detail)
{
    public string Member { get; } = member;
}

/// <summary>
/// The Functions host's invocation of a custom handler for a non-HTTP trigger
/// (docs: custom handlers, "Request payload"): <c>{"Data": {binding: value}, "Metadata": {name: value}}</c>, written by
/// Newtonsoft with PascalCase names. Arrays arrive as strings that hold JSON (the host cannot turn an array into a
/// JObject), objects as objects; both are accepted here in either form, and names are matched case-insensitively,
/// as the host itself matches the response's.
/// </summary>
public sealed class Invocation
{
    private readonly JsonElement _data;
    private readonly JsonElement _metadata;

    private Invocation(JsonElement data, JsonElement metadata)
    {
        _data = data;
        _metadata = metadata;
    }

    public static Invocation Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvocationException("", "The invocation is not a JSON object.");
        }

        var data = Member(root, "Data") ?? throw new InvocationException("/Data", "The invocation has no Data.");
        var metadata = Member(root, "Metadata") ?? throw new InvocationException("/Metadata", "The invocation has no Metadata.");
        return new Invocation(data, metadata);
    }

    /// <summary>Data.{name} as an array (a JSON array, or a string holding one).</summary>
    public JsonElement DataArray(string name) => AsArray(Member(_data, name), "/Data/" + name);

    public JsonElement? Data(string name) => Member(_data, name);

    /// <summary>Metadata.{name} as an array (a JSON array, or a string holding one).</summary>
    public JsonElement MetadataArray(string name) => AsArray(Member(_metadata, name), "/Metadata/" + name);

    /// <summary>Metadata.{name} as an object (a JSON object, or a string holding one).</summary>
    public JsonElement MetadataObject(string name)
    {
        var pointer = "/Metadata/" + name;
        var value = Member(_metadata, name) ?? throw new InvocationException(pointer, $"The invocation has no Metadata.{name}.");
        value = Unwrap(value, pointer);
        return value.ValueKind == JsonValueKind.Object ? value : throw new InvocationException(pointer, $"Metadata.{name} is not an object.");
    }

    /// <summary>Metadata.RetryContext.RetryCount on a retry, else 0.</summary>
    public int RetryCount =>
        Member(_metadata, "RetryContext") is { ValueKind: JsonValueKind.Object } retry && Member(retry, "RetryCount") is { ValueKind: JsonValueKind.Number } count
            ? count.GetInt32()
            : 0;

    /// <summary>A member by name, case-insensitively; null when absent or null.</summary>
    public static JsonElement? Member(JsonElement obj, string name)
    {
        if (obj.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (obj.TryGetProperty(name, out var exact))
        {
            return exact.ValueKind == JsonValueKind.Null ? null : exact;
        }

        foreach (var property in obj.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value.ValueKind == JsonValueKind.Null ? null : property.Value;
            }
        }

        return null;
    }

    public static long ReadInt64(JsonElement value, string pointer) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt64(out var n) => n,
        JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) => n,
        _ => throw new InvocationException(pointer, $"{value.GetRawText()} is not an integer."),
    };

    public static string ReadString(JsonElement value, string pointer) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        _ => throw new InvocationException(pointer, $"{value.GetRawText()} is not a string."),
    };

    public static DateTimeOffset ReadTime(JsonElement value, string pointer) =>
        value.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new InvocationException(pointer, $"{value.GetRawText()} is not a date and time.");

    private static JsonElement AsArray(JsonElement? value, string pointer)
    {
        var found = value ?? throw new InvocationException(pointer, $"The invocation has no {pointer[1..].Replace('/', '.')}.");
        found = Unwrap(found, pointer);
        return found.ValueKind == JsonValueKind.Array ? found : throw new InvocationException(pointer, $"{pointer[1..].Replace('/', '.')} is not an array.");
    }

    /// <summary>A string that holds JSON becomes that JSON (the host's way of sending arrays).</summary>
    private static JsonElement Unwrap(JsonElement value, string pointer)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return value;
        }

        try
        {
            using var inner = JsonDocument.Parse(value.GetString()!);
            return inner.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new InvocationException(pointer, $"{pointer[1..].Replace('/', '.')} is a string but not JSON: {ex.Message}");
        }
    }
}

/// <summary>The answer to an invocation (docs: custom handlers, "Response payload"); always application/json.</summary>
public static class InvocationResult
{
    public static IResult Completed(IReadOnlyList<string> logs) =>
        Results.Json(new Dictionary<string, object?> { ["Outputs"] = new Dictionary<string, object?>(), ["Logs"] = logs, ["ReturnValue"] = null });
}

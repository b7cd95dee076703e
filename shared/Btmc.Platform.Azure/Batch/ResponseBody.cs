using System.Text.Json;
using Azure;

namespace Btmc.Platform.Azure.Batch;

/// <summary>Success bodies of the Batch REST client, read as JSON.</summary>
public static class ResponseBody
{
    /// <summary>
    /// Reads a success body with <paramref name="read"/>; a body that is not the documented JSON throws
    /// <see cref="RequestFailedException"/> (with the response's status, naming <paramref name="service"/>) instead of
    /// a parser's exception.
    /// </summary>
    public static T Read<T>(Response response, string service, Func<JsonElement, T> read)
    {
        try
        {
            using var document = JsonDocument.Parse(response.Content.ToMemory());
            return read(document.RootElement);
        }
        catch (Exception exception) when (exception is JsonException or FormatException or KeyNotFoundException
                                              or InvalidOperationException or ArgumentException)
        {
            throw new RequestFailedException(
                response.Status,
                $"{service} answered {response.Status} with a body this client cannot read: {exception.Message}",
                null,
                exception);
        }
    }
}

using System.Globalization;
using Azure;
using Btmc.Platform.Tables;

namespace Btmc.Platform.Azure.Tables;

/// <summary>
/// The SDK's failures as the port's <see cref="TableStoreException"/>: the service's status and error code as they
/// are (404 TableNotFound / ResourceNotFound, 409 EntityAlreadyExists, 412 UpdateConditionNotSatisfied, 5xx), and a
/// store that could not be reached after the retries as 503 ServiceUnavailable, which the server answers with 503
/// and the Functions host retries.
/// </summary>
internal static class AzureTableErrors
{
    /// <summary>
    /// The refusal for an exception out of the SDK, or null for one that is not the store's (a bug, or the caller's
    /// cancellation), which then propagates as it is.
    /// </summary>
    public static TableStoreException? Translate(Exception exception, Uri endpoint, CancellationToken cancellationToken) => exception switch
    {
        TableStoreException => null,
        RequestFailedException { Status: 0 } or AggregateException => Unreachable(endpoint, exception),
        RequestFailedException failed => Refusal(failed, failedActionIndex: null),
        // Why: the SDK's per-attempt timeout (RetryOptions.NetworkTimeout) surfaces as a cancellation nobody asked for.
        OperationCanceledException when !cancellationToken.IsCancellationRequested => Unreachable(endpoint, exception),
        _ => null,
    };

    public static TableStoreException Refusal(RequestFailedException failed, int? failedActionIndex)
    {
        var code = failed.ErrorCode is { Length: > 0 } errorCode ? errorCode : failed.Status.ToString(CultureInfo.InvariantCulture);
        // The SDK's message repeats the request and headers after the service's first line; the first line is enough.
        var firstLine = failed.Message.Split('\n', 2)[0].TrimEnd('\r');
        var at = failedActionIndex is { } index ? $" at action {index.ToString(CultureInfo.InvariantCulture)}" : string.Empty;
        return new TableStoreException(failed.Status, code, $"The table service answered {failed.Status} {code}{at}: {firstLine}", failedActionIndex);
    }

    /// <summary>Throws the refusal of a 404 the SDK returned as a value unless it says the entity is missing.</summary>
    public static void ThrowUnlessEntityMissing(Response response)
    {
        var code = HeaderOrNull(response, "x-ms-error-code");
        if (response.Status == 404 && code is null or "ResourceNotFound")
        {
            return;
        }

        code ??= response.Status.ToString(CultureInfo.InvariantCulture);
        throw new TableStoreException(response.Status, code, $"The table service answered {response.Status} {code}.");
    }

    public static string ETagOf(Response response) =>
        HeaderOrNull(response, "ETag") ?? throw new TableStoreException(502, "InvalidResponse", "The service answered a write without an ETag.");

    public static string? HeaderOrNull(Response response, string name) =>
        response.Headers.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    private static TableStoreException Unreachable(Uri endpoint, Exception exception) =>
        new(503, "ServiceUnavailable",
            $"The table service at {endpoint} could not be reached after the configured retries: {exception.Message}");
}

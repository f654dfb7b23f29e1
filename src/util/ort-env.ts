/**
 * Imported first by the process entry points (CLI, language server): ONNX Runtime 1.30's
 * telemetry otherwise writes ~/.cache/Microsoft/DeveloperTools/.onnxruntime/ (a database and a
 * device id) outside every folder QUALS chooses. A user's own ORT_DISABLE_TELEMETRY wins.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';
export {};

"""Generation backends behind one protocol: an OpenAI-compatible client, the embedded
llama.cpp model, a scripted fake, and the model files that ship inside registry packages."""

from rag.lazy import lazy_exports

_EXPORTS = {
    "LLM": "rag.llm.base",
    "LLMError": "rag.llm.base",
    "Completion": "rag.llm.base",
    "Usage": "rag.llm.base",
    "create_llm": "rag.llm.factory",
    "ScriptedLLM": "rag.llm.fake",
    "LocalLlamaLLM": "rag.llm.local",
    "OpenAICompatLLM": "rag.llm.openai_compat",
    "ModelFileError": "rag.llm.model_files",
    "ensure_local_model": "rag.llm.model_files",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

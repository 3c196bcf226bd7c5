"""Files: the caller's uploads (`/files`, authenticated) and the local backend's blob routes
(`/files/blobs`, public: each request carries its own signed token). Built in core.files."""

from core.files.routes import blob_router, files_router

blobs = blob_router()
router = files_router()

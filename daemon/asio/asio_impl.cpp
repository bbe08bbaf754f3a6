// Boost.Asio's implementation, compiled once for the whole project (BOOST_ASIO_SEPARATE_COMPILATION
// is set on every target that links stopcall::asio), so no other file pays for it.
#include <boost/asio/impl/src.hpp>
